//! Embeds the build's provenance: git commit, its date and the dirty flag, rustc version, target
//! and profile.
//! Without git (a source tarball) it warns and embeds "unknown"; it never fails the build.
#![expect(
    clippy::disallowed_macros,
    reason = "a build script speaks to cargo on stdout, not to a terminal"
)]

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| {
        println!("cargo:warning=git commit unknown: the report will say so");
        "unknown".to_string()
    });
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .map_or("unknown", |s| if s.is_empty() { "false" } else { "true" });
    // What `sortmark --version` adds to the version: "abc1234 2026-12-07", "…, modified" for a
    // build with uncommitted changes, or "commit unknown".
    let detail = match (commit.as_str(), git(&["log", "-1", "--format=%cs", "HEAD"])) {
        ("unknown", _) => "commit unknown".to_string(),
        (commit, date) => {
            let short = commit.get(..7).unwrap_or(commit);
            let date = date.map_or(String::new(), |d| format!(" {d}"));
            let modified = if dirty == "true" { ", modified" } else { "" };
            format!("{short}{date}{modified}")
        }
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SORTMARK_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=SORTMARK_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=SORTMARK_BUILD_DETAIL={detail}");
    println!("cargo:rustc-env=SORTMARK_RUSTC_VERSION={rustc_version}");
    println!(
        "cargo:rustc-env=SORTMARK_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=SORTMARK_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=build.rs");
}
