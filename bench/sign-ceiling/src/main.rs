//! The ceiling for bench/run's client credentials scenarios: how many JWTs per second this
//! machine signs with every core busy, signed as Tessera signs its access tokens
//! (`broker::provider::jws`: aws-lc keys parsed once, RSA-2048 PKCS#1 v1.5 with SHA-256 for
//! RS256, P-256 for ES256, Ed25519 for EdDSA; header and claims base64url-encoded, then the
//! signature). Each token differs (its `jti` and times), as issued tokens do. Nothing else runs,
//! so a server's client credentials tokens per second can only approach this number.
//!
//! ```text
//! sign-ceiling measure SECONDS THREADS ALG   prints "BENCH signatures_per_s=… threads=… alg=…"
//! ```
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A key of the size Tessera generates (`broker::provider::keys`), parsed once.
enum Key {
    Rs256(RsaKeyPair),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl Key {
    fn generate(alg: &str) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("generating a {alg} key: {e}");
        match alg {
            "RS256" => RsaKeyPair::generate(KeySize::Rsa2048)
                .map(Key::Rs256)
                .map_err(|e| failed(&e)),
            "ES256" => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map(Key::Es256)
                .map_err(|e| failed(&e)),
            "EdDSA" => Ed25519KeyPair::generate()
                .map(Key::EdDsa)
                .map_err(|e| failed(&e)),
            _ => Err(format!("ALG must be RS256, ES256 or EdDSA, not {alg}")),
        }
    }

    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, String> {
        let failed = |_| "signing failed".to_owned();
        match self {
            Key::Rs256(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            Key::Es256(key) => Ok(key.sign(rng, message).map_err(failed)?.as_ref().to_vec()),
            Key::EdDsa(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }
}

/// A compact JWS shaped like Tessera's client credentials access token (the same claims, with
/// values of the same length), numbered `n`.
fn token(key: &Key, rng: &SystemRandom, alg: &str, n: u64) -> Result<String, String> {
    // Times of the same width as real ones (no clock needed: nothing verifies these).
    let now = 1_796_000_000 + n / 1_000;
    let header = format!(
        r#"{{"alg":"{alg}","typ":"at+jwt","kid":"Br90S5XRz6FDIyhS3aO4GIyIbeCL1XrHjYtfOlVWu38"}}"#
    );
    let claims = format!(
        concat!(
            r#"{{"iss":"http://127.0.0.1:40000","sub":"019a0b1c-2d3e-7f40-8a51-b6c7d8e9f0a2","#,
            r#""aud":"http://127.0.0.1:40000/api","exp":{exp},"iat":{iat},"#,
            r#""jti":"019a0b1c-2d3e-7f40-8a51-{n:012x}","#,
            r#""client_id":"019a0b1c-2d3e-7f40-8a51-b6c7d8e9f0a2","scope":"bench:read"}}"#
        ),
        exp = now + 600,
        iat = now,
        n = n,
    );
    let mut jws = URL_SAFE_NO_PAD.encode(header);
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let signature = key.sign(rng, jws.as_bytes())?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

/// Signs tokens on `threads` threads for `seconds`; returns signatures per second.
fn measure(alg: &str, seconds: u64, threads: usize) -> Result<f64, String> {
    let key = Arc::new(Key::generate(alg)?);
    token(&key, &SystemRandom::new(), alg, 0)?;
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (key, done, stop, alg) = (key.clone(), done.clone(), stop.clone(), alg.to_owned());
            std::thread::spawn(move || {
                let rng = SystemRandom::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    if token(&key, &rng, &alg, n).is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked".to_owned())?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [command, seconds, threads, alg] if command == "measure" => {
            let seconds = seconds.parse().map_err(|e| format!("SECONDS: {e}"))?;
            let threads = threads.parse().map_err(|e| format!("THREADS: {e}"))?;
            let rate = measure(alg, seconds, threads)?;
            println!("BENCH signatures_per_s={rate:.1} threads={threads} alg={alg}");
            Ok(())
        }
        _ => Err("usage: sign-ceiling measure SECONDS THREADS RS256|ES256|EdDSA".to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sign-ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}
