//! [`Namespace`]: the store namespace a request's originals are kept under.

use headroom::store::DEFAULT_NAMESPACE;

/// The store namespace of one request, carried as a request extension.
///
/// A request without one keeps its originals under [`DEFAULT_NAMESPACE`]. A multi-tenant door
/// (the `headroom proxy` derives one from the caller's credential) inserts it before the request
/// reaches the layer, so callers never see each other's originals.
///
/// ```
/// use headroom_tower::Namespace;
/// let mut request = http::Request::post("http://localhost/v1/chat/completions").body(())?;
/// request.extensions_mut().insert(Namespace::new("tenant-a"));
/// assert_eq!(Namespace::of(request.extensions()), "tenant-a");
/// assert_eq!(Namespace::of(&http::Extensions::new()), "default");
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Namespace(pub String);

impl Namespace {
    /// A namespace named `name`.
    ///
    /// ```
    /// assert_eq!(headroom_tower::Namespace::new("t-1").as_str(), "t-1");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Namespace(name.into())
    }

    /// The name.
    ///
    /// ```
    /// assert_eq!(headroom_tower::Namespace::new("t-1").as_str(), "t-1");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace in `extensions`, or [`DEFAULT_NAMESPACE`] when there is none.
    ///
    /// ```
    /// let mut extensions = http::Extensions::new();
    /// extensions.insert(headroom_tower::Namespace::new("t-1"));
    /// assert_eq!(headroom_tower::Namespace::of(&extensions), "t-1");
    /// ```
    pub fn of(extensions: &http::Extensions) -> &str {
        extensions
            .get::<Namespace>()
            .map_or(DEFAULT_NAMESPACE, Namespace::as_str)
    }
}
