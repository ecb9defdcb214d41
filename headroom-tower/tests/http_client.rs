//! `HeadroomLayer` in front of hyper-util's legacy client, over loopback HTTP.

mod common;

use axum::body::Body;
use bytes::Bytes;
use common::{assert_compressed, chat_body, Upstream};
use headroom_tower::{BoxError, HeadroomLayer};
use http::Request;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::{ServiceBuilder, ServiceExt};

fn hyper_client<B>() -> Client<HttpConnector, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Client::builder(TokioExecutor::new()).build_http()
}

fn post(url: String, body: Body) -> Request<Body> {
    Request::post(url)
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn chat_completion_is_compressed_and_reported() {
    let upstream = Upstream::start().await;
    let reports = Arc::new(AtomicUsize::new(0));
    let counted = reports.clone();
    let layer = HeadroomLayer.on_report(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(hyper_client::<Body>());
    let sent = chat_body();
    let mut request = post(
        upstream.url("/v1/chat/completions"),
        Body::from(sent.clone()),
    );
    request
        .headers_mut()
        .insert("content-length", sent.len().into());
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let report = response
        .extensions()
        .get::<headroom::Report>()
        .expect("report in the response extensions")
        .clone();
    assert!(report.tokens_saved > 0, "{report:?}");
    assert_eq!(reports.load(Ordering::SeqCst), 1);

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_compressed(&sent, &seen[0].body);
    assert_eq!(
        seen[0].headers["content-length"],
        seen[0].body.len().to_string().as_str()
    );
}

#[tokio::test]
async fn everything_else_is_forwarded_byte_for_byte() {
    let upstream = Upstream::start().await;
    let chat = upstream.url("/v1/chat/completions");
    let sent = chat_body();
    let mut cases: Vec<(&str, HeadroomLayer, Request<Body>, Bytes)> = Vec::new();

    cases.push((
        "embeddings path",
        HeadroomLayer,
        post(upstream.url("/v1/embeddings"), Body::from(sent.clone())),
        sent.clone(),
    ));
    for path in [
        "/v1/images/generations",
        "/v1/audio/speech",
        // `POST /v1/responses` is compressed (tests/responses.rs); the routes under it are not.
        "/v1/responses/resp_1/cancel",
    ] {
        cases.push((
            path,
            HeadroomLayer,
            post(upstream.url(path), Body::from(sent.clone())),
            sent.clone(),
        ));
    }
    let form = Bytes::from_static(
        b"--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b--\r\n",
    );
    let mut files = post(upstream.url("/v1/files"), Body::from(form.clone()));
    files.headers_mut().insert(
        "content-type",
        "multipart/form-data; boundary=b".parse().unwrap(),
    );
    cases.push(("files upload", HeadroomLayer, files, form));
    let mut models = Request::get(upstream.url("/v1/models"))
        .body(Body::empty())
        .unwrap();
    models
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    cases.push(("models listing", HeadroomLayer, models, Bytes::new()));
    let mut encoded = post(chat.clone(), Body::from(sent.clone()));
    encoded
        .headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    cases.push(("content-encoding", HeadroomLayer, encoded, sent.clone()));
    let chunks: Vec<Result<Bytes, std::io::Error>> = sent
        .chunks(4096)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    cases.push((
        "streaming body",
        HeadroomLayer,
        post(
            chat.clone(),
            Body::from_stream(futures_util::stream::iter(chunks)),
        ),
        sent.clone(),
    ));
    let mut small_limit = headroom::Config::default();
    small_limit.max_body_bytes = 1024;
    cases.push((
        "over the limit",
        HeadroomLayer::new(
            headroom::Headroom::builder()
                .config(small_limit)
                .build()
                .unwrap(),
        ),
        post(chat.clone(), Body::from(sent.clone())),
        sent.clone(),
    ));
    let malformed = Bytes::from(sent[..sent.len() / 2].to_vec());
    cases.push((
        "malformed JSON",
        HeadroomLayer,
        post(chat.clone(), Body::from(malformed.clone())),
        malformed,
    ));
    let mut bypass = post(chat.clone(), Body::from(sent.clone()));
    bypass
        .headers_mut()
        .insert("x-headroom-bypass", "true".parse().unwrap());
    cases.push(("bypass header", HeadroomLayer, bypass, sent.clone()));
    let mut plain = post(chat.clone(), Body::from(sent.clone()));
    plain
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    cases.push(("not JSON", HeadroomLayer, plain, sent.clone()));

    let total = cases.len();
    for (index, (name, layer, request, body)) in cases.into_iter().enumerate() {
        let response = ServiceBuilder::new()
            .layer(layer)
            .service(hyper_client::<Body>())
            .oneshot(request)
            .await
            .unwrap();
        assert!(
            response.extensions().get::<headroom::Report>().is_none(),
            "{name}: nothing compressed, no report"
        );
        let seen = upstream.seen();
        assert_eq!(seen.len(), index + 1);
        assert!(seen[index].body == body, "{name}: body changed on the way");
    }
    assert_eq!(upstream.seen().len(), total);
}
