//! The ceiling for bench/run's password sign-in scenario: how many Argon2id verifications per
//! second this machine does with every core busy, computed as Tessera's sign-in computes them
//! (`broker::login::PasswordParams::verify`: the same crate and parameters, each thread reusing
//! its own Argon2 memory). Nothing else runs, so a server's sign-ins per second can only
//! approach this number.
//!
//! ```text
//! password-ceiling hash PASSWORD          prints the PHC string of PASSWORD (for seeding)
//! password-ceiling measure SECONDS THREADS prints "BENCH verifications_per_s=… …"
//! ```
//! Both use the parameters the server would: `TESSERA_ARGON2_MEMORY_KIB`, `_ITERATIONS` and
//! `_PARALLELISM` from the environment, OWASP's 19456, 2, 1 by default.
#![allow(clippy::print_stdout)]

use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};

/// Tessera's defaults (OWASP): 19 MiB, 2 passes, 1 lane.
const DEFAULT_PARAMS: (u32, u32, u32) = (19_456, 2, 1);
const PASSWORD: &str = "correct horse battery staple, benchmarked";

fn env_or(name: &str, default: u32) -> Result<u32, String> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|e| format!("{name}={v}: {e}")),
        Err(_) => Ok(default),
    }
}

fn params_from_env() -> Result<(u32, u32, u32), String> {
    let (m, t, p) = DEFAULT_PARAMS;
    Ok((
        env_or("TESSERA_ARGON2_MEMORY_KIB", m)?,
        env_or("TESSERA_ARGON2_ITERATIONS", t)?,
        env_or("TESSERA_ARGON2_PARALLELISM", p)?,
    ))
}

/// A PHC string for `password`, made as the server makes them (16 random bytes of salt).
fn hash(password: &str, (m, t, p): (u32, u32, u32)) -> Result<String, String> {
    let params = Params::new(m, t, p, None).map_err(|e| format!("argon2 parameters: {e}"))?;
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

/// Whether `password` matches `phc`, computed in `memory` as the server does.
fn verify(phc: &PasswordHash, password: &str, memory: &mut Vec<Block>) -> Result<bool, String> {
    let params = Params::try_from(phc).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return Err("no salt or no hash".into());
    };
    let mut output = vec![0u8; expected.len()];
    memory.resize(params.block_count(), Block::new());
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut output, &mut memory[..])
        .map_err(|e| e.to_string())?;
    Ok(output == expected.as_bytes())
}

/// Verifies `phc` on `threads` threads for `seconds`; returns verifications per second.
fn measure(phc: &str, seconds: u64, threads: usize) -> Result<f64, String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("hash: {e}"))?;
    if !verify(&parsed, PASSWORD, &mut Vec::new())? {
        return Err("the hash does not verify".into());
    }
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, stop, parsed) = (done.clone(), stop.clone(), parsed.clone());
            std::thread::spawn(move || {
                let mut memory = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    if verify(&parsed, PASSWORD, &mut memory) == Ok(true) {
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
    // Verifications still running at the stop finish after it: count the time they took.
    let elapsed = started.elapsed().as_secs_f64();
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
}

fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: password-ceiling hash PASSWORD | measure SECONDS THREADS";
    match args {
        [command, password] if command == "hash" => {
            println!("{}", hash(password, params_from_env()?)?);
        }
        [command, seconds, threads] if command == "measure" => {
            let seconds = seconds.parse().map_err(|e| format!("SECONDS: {e}"))?;
            let threads = threads.parse().map_err(|e| format!("THREADS: {e}"))?;
            let params = params_from_env()?;
            let phc = hash(PASSWORD, params)?;
            let rate = measure(&phc, seconds, threads)?;
            let (m, t, p) = params;
            println!("BENCH verifications_per_s={rate:.1} threads={threads} m_kib={m} t={t} p={p}");
        }
        _ => return Err(usage.to_owned()),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("password-ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}
