//! The ceiling of this machine's HTTP stack for `make bench`: a bare axum handler, no middleware,
//! on the same tokio runtime settings as the server.
//!
//! cargo run --release -p gatehouse --example bare -- PORT

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(3998);
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
