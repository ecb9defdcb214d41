//! Request bodies: read whole within the limit (413 above it), and small header checks.

use super::admission::{Admission, Admitted};
use super::error::ProxyError;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::{header, HeaderMap};

/// The announced `Content-Length`, when there is one.
pub fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads a whole request body of at most `limit` bytes, once its bytes are admitted: its announced
/// length, or the limit for a body of unknown length (given back down to what it was once read).
pub async fn read_admitted(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    admission: &Admission,
) -> Result<(Bytes, Admitted), ProxyError> {
    let announced = announced_length(headers);
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(ProxyError::BodyTooLarge(limit));
    }
    let mut admitted = admission.admit(announced.unwrap_or(limit as u64)).await;
    let body = read_limited(body, headers, limit).await?;
    admission.shrink(&mut admitted, body.len() as u64);
    Ok((body, admitted))
}

/// Reads a whole request body of at most `limit` bytes.
pub async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ProxyError> {
    if announced_length(headers).is_some_and(|len| len > limit as u64) {
        return Err(ProxyError::BodyTooLarge(limit));
    }
    let mut stream = body.into_data_stream();
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ProxyError::BadRequest(format!("cannot read the request body: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(ProxyError::BodyTooLarge(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let headers = HeaderMap::new();
        let ok = read_limited(Body::from("12345"), &headers, 5)
            .await
            .unwrap();
        assert_eq!(&ok[..], b"12345");
        let err = read_limited(Body::from("123456"), &headers, 5)
            .await
            .unwrap_err();
        assert_eq!(err, ProxyError::BodyTooLarge(5));
        let mut announced = HeaderMap::new();
        announced.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        let err = read_limited(Body::from("1"), &announced, 5)
            .await
            .unwrap_err();
        assert_eq!(err, ProxyError::BodyTooLarge(5));
    }
}
