//! A loopback HTTP server that answers fixed bodies by path: a stand-in for a misconfigured
//! IdP in bad-input tests (broken discovery documents, empty key sets). Real IdPs in the
//! end-to-end suite are real software; this only serves what no real IdP would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The server; stopped when dropped.
#[derive(Debug)]
pub struct StaticHttp {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    routes: Arc<Mutex<HashMap<String, (u16, String)>>>,
    task: JoinHandle<()>,
}

impl StaticHttp {
    /// Starts a server with no routes (every path answers 404).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, (u16, String)>>> = Arc::default();
        let shared = routes.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let routes = shared.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 8192];
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buffer[..n]);
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let (status, body) = routes
                        .lock()
                        .unwrap()
                        .get(&path)
                        .cloned()
                        .unwrap_or((404, "not found".into()));
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { base, routes, task }
    }

    /// Answers `path` with `status` and `body`.
    pub fn route(&self, path: &str, status: u16, body: impl Into<String>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body.into()));
    }
}

impl Drop for StaticHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
