//! A fake OpenAI chat-completions upstream on a loopback port: records every request body and
//! answers each with what the test's script says (a JSON body, or an SSE stream sent in small pieces).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// What the fake model sends back.
pub enum Reply {
    /// A whole chat completion.
    Json(Value),
    /// A stream: these chunks as `data:` events, then `data: [DONE]`.
    Sse(Vec<Value>),
}

/// Decides the reply to the `n`th request (0-based).
pub type Script = Arc<dyn Fn(&Value, usize) -> Reply + Send + Sync>;

struct Inner {
    script: Script,
    requests: Mutex<Vec<Value>>,
}

/// The running upstream.
pub struct FakeOpenAi {
    /// `http://127.0.0.1:PORT/v1/chat/completions`
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeOpenAi {
    /// Serves `script` on a free loopback port (the task ends with the test's runtime).
    pub async fn start(script: Script) -> FakeOpenAi {
        let inner = Arc::new(Inner {
            script,
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!(
            "http://{}/v1/chat/completions",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake upstream serves")
        });
        FakeOpenAi { url, inner }
    }

    /// Every request body received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.requests.lock().unwrap().clone()
    }
}

/// The bytes of a stream of `chunks`, as the upstream sends them in all.
pub fn sse_body(chunks: &[Value]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for chunk in chunks {
        out.extend(format!("data: {chunk}\n\n").into_bytes());
    }
    out.extend(b"data: [DONE]\n\n");
    out
}

async fn handle(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).expect("the upstream gets JSON");
    let n = {
        let mut requests = inner.requests.lock().unwrap();
        requests.push(request.clone());
        requests.len() - 1
    };
    match (inner.script)(&request, n) {
        Reply::Json(value) => Response::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&value).unwrap()))
            .unwrap(),
        Reply::Sse(chunks) => {
            // Each event goes out in two pieces cut mid-JSON, as networks do.
            let mut pieces: Vec<Result<Bytes, std::convert::Infallible>> = Vec::new();
            for chunk in chunks {
                let event = format!("data: {chunk}\n\n").into_bytes();
                let (a, b) = event.split_at(event.len() / 2);
                pieces.push(Ok(Bytes::copy_from_slice(a)));
                pieces.push(Ok(Bytes::copy_from_slice(b)));
            }
            pieces.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
            Response::builder()
                .header(CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(futures_util::stream::iter(pieces)))
                .unwrap()
        }
    }
}
