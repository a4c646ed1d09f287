//! The ceiling for bench/run's discovery and JWKS rows: how many requests per second the load
//! tool can get answered on this machine when the server does no work at all. It answers every
//! request on a kept-alive connection with the same bytes (a response Tessera gave, captured
//! whole: status line, headers and body), read from a file once, on one thread per core: an
//! acceptor hands connections round-robin to workers, each a single-threaded tokio runtime, as
//! actix-web (Tessera's server) runs. No parsing beyond finding the end of each request head,
//! no routing, no allocation per request. A server that computes its answers can only approach
//! this number; a peer ratio above this one's is out of reach on the machine.
//!
//! ```text
//! http-ceiling serve RESPONSE_FILE THREADS   listens on 127.0.0.1, an ephemeral port, and
//!                                            prints "BENCH port=…" once it accepts
//! ```
//!
//! Requests must have no body (wrk's GETs of bench/request.lua): a head ends a request.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The longest request head a connection may buffer; wrk's are a tenth of it.
const HEAD_LIMIT: usize = 8192;

/// Serves one connection until the client closes it or misbehaves.
async fn serve_connection(stream: TcpStream, response: Arc<[u8]>) -> std::io::Result<()> {
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let mut stream = tokio::net::TcpStream::from_std(stream)?;
    let mut buffer = vec![0; HEAD_LIMIT];
    let mut filled = 0;
    loop {
        let read = stream.read(&mut buffer[filled..]).await?;
        if read == 0 {
            return Ok(());
        }
        filled += read;
        let (heads, consumed) = complete_heads(&buffer[..filled]);
        buffer.copy_within(consumed..filled, 0);
        filled -= consumed;
        if filled == buffer.len() {
            return Err(std::io::Error::other("a request head over 8 KiB"));
        }
        for _ in 0..heads {
            stream.write_all(&response).await?;
        }
    }
}

/// How many whole request heads (each ended by an empty line) `bytes` starts with, and how many
/// bytes they take.
fn complete_heads(bytes: &[u8]) -> (usize, usize) {
    let (mut heads, mut consumed) = (0, 0);
    while let Some(end) = bytes[consumed..]
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
    {
        heads += 1;
        consumed += end + 4;
    }
    (heads, consumed)
}

/// A worker thread: a single-threaded runtime serving the connections the acceptor sends.
fn worker(mut connections: UnboundedReceiver<TcpStream>, response: Arc<[u8]>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("http-ceiling: a worker's runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        while let Some(stream) = connections.recv().await {
            let response = response.clone();
            tokio::spawn(async move {
                // A connection's end, orderly or not, is the client's business.
                let _ = serve_connection(stream, response).await;
            });
        }
    });
}

fn serve(response_file: &str, threads: usize) -> Result<(), String> {
    let response: Arc<[u8]> = std::fs::read(response_file)
        .map_err(|e| format!("{response_file}: {e}"))?
        .into();
    if !response.starts_with(b"HTTP/1.1 ") || !contains(&response, b"\r\n\r\n") {
        return Err(format!("{response_file} is not a whole HTTP/1.1 response"));
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listening: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let workers: Vec<UnboundedSender<TcpStream>> = (0..threads.max(1))
        .map(|_| {
            let (sender, receiver) = unbounded_channel();
            let response = response.clone();
            std::thread::spawn(move || worker(receiver, response));
            sender
        })
        .collect();
    println!("BENCH port={port}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    for (stream, next) in listener.incoming().zip((0..workers.len()).cycle()) {
        let stream = stream.map_err(|e| format!("accepting: {e}"))?;
        workers[next]
            .send(stream)
            .map_err(|_| "a worker stopped".to_owned())?;
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [command, response_file, threads] if command == "serve" => {
            let threads = threads.parse().map_err(|e| format!("THREADS: {e}"))?;
            serve(response_file, threads)
        }
        _ => Err("usage: http-ceiling serve RESPONSE_FILE THREADS".to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http-ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::complete_heads;

    #[test]
    fn counts_whole_heads_and_keeps_a_partial_one() {
        let bytes = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HT";
        assert_eq!(complete_heads(bytes), (2, bytes.len() - 8));
        assert_eq!(complete_heads(b"GET / HTTP/1.1\r\n"), (0, 0));
    }
}
