//! Lays out the release binary's code: the functions listed in `link-order.txt` (what
//! `tessera serve` runs while starting and serving, recorded by `scripts/link-order`) go first,
//! so a replica keeps a few megabytes of its code in memory instead of most of it (ADR 0015).
//!
//! Only for release builds linked by LLD, which rustc uses on x86_64 Linux since 1.90 and which
//! understands `--symbol-ordering-file`; `TESSERA_LINK_ORDER=off` builds without it (for a
//! linker of your own). Relative relocations are packed there too, when glibc is 2.36+.

// A build script talks to cargo on standard output.
#![allow(clippy::print_stdout)]

use std::env;
use std::path::Path;
use std::process::Command;

const ORDER: &str = "link-order.txt";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={ORDER}");
    println!("cargo::rerun-if-env-changed=TESSERA_LINK_ORDER");
    let release = env::var("PROFILE").as_deref() == Ok("release");
    let disabled = env::var("TESSERA_LINK_ORDER").as_deref() == Ok("off");
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = Path::new(&manifest_dir).join(ORDER);
    if release && !disabled && order.exists() && links_with_lld() {
        let order = order.display();
        println!("cargo::rustc-link-arg-bin=tessera=-Wl,--symbol-ordering-file={order}");
        // Names from an older build that are gone are expected, not worth a warning each.
        println!("cargo::rustc-link-arg-bin=tessera=-Wl,--no-warn-symbol-ordering");
        // Relative relocations packed (DT_RELR): a megabyte of `.rela.dyn` that the loader
        // reads once and that stayed resident becomes a few kilobytes. Only a glibc that
        // applies them (2.36+) may run such a binary: built against an older one, not packed.
        if glibc_at_least(2, 36) {
            println!("cargo::rustc-link-arg-bin=tessera=-Wl,-z,pack-relative-relocs");
        }
    }
}

/// Whether rustc links this target with its own LLD: x86_64 Linux (GNU) from rustc 1.90 on,
/// unless the build picks a linker itself.
fn links_with_lld() -> bool {
    let target = env::var("TARGET").unwrap_or_default();
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let own_linker = env::var_os("RUSTC_LINKER").is_some() || flags.contains("link");
    if target != "x86_64-unknown-linux-gnu" || own_linker {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(output) = Command::new(rustc).arg("--version").output() else {
        return false;
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let version = String::from_utf8_lossy(&output.stdout);
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|minor| minor >= 90)
}

/// Whether the build machine's glibc, which the binary links against, is at least this version.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(output) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    // "glibc 2.36"
    let version = String::from_utf8_lossy(&output.stdout);
    let mut numbers = version
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let found = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    found >= (major, minor)
}
