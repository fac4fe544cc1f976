//! The compatibility section end to end: a `python3` first on PATH whose CuPy fails to import
//! the way cudamark.py's did (CuPy 13.4.1 built from source with Cython 3.1).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const ATTRIBUTE_ERROR: &str =
    "attribute '__name__' of 'builtin_function_or_method' objects is not writable";

/// A folder with `bin/python3` (the real interpreter, with a fake CuPy on its path) and the
/// fake CuPy: its import raises the AttributeError after `cupy._util` recorded Cython 3.1.2.
fn fake_python(root: &Path) -> PathBuf {
    let site = root.join("site");
    fs::create_dir_all(site.join("cupy")).unwrap();
    fs::write(site.join("cupy/_util.py"), "cython_build_ver = '3.1.2'\n").unwrap();
    fs::write(
        site.join("cupy/__init__.py"),
        format!("from cupy import _util\nraise AttributeError(\"{ATTRIBUTE_ERROR}\")\n"),
    )
    .unwrap();
    let dist = site.join("cupy-13.4.1.dist-info");
    fs::create_dir_all(&dist).unwrap();
    fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: cupy\nVersion: 13.4.1\n",
    )
    .unwrap();
    fs::write(dist.join("INSTALLER"), "pip\n").unwrap();
    // A wheel pip built locally from the sdist: a plain platform tag, not a manylinux one.
    fs::write(
        dist.join("WHEEL"),
        "Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n",
    )
    .unwrap();

    let real = which_python3();
    let bin = root.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let python = bin.join("python3");
    fs::write(
        &python,
        format!(
            "#!/bin/sh\nPYTHONPATH='{}' exec '{}' \"$@\"\n",
            site.display(),
            real.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn which_python3() -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("python3"))
        .find(|p| p.is_file())
        .expect("a python3 on PATH")
}

#[test]
fn a_failing_cupy_import_is_a_failed_check_with_its_remedy_and_sortmark_still_runs() {
    let root = tempfile::tempdir().unwrap();
    let bin = fake_python(root.path());
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/peers");
    let def = root.path().join("cupy.toml");
    fs::write(
        &def,
        format!(
            "title = \"CuPy beside sortmark\"\n\
             [[cell]]\nsweep = {{ name = \"cpu\", backend = \"cpu\", algorithms = [\"rayon-unstable\"], sizes = [1000], threads = [1] }}\n\
             [[cell]]\nsweep = {{ name = \"cupy\", backend = \"command\", algorithms = [\"cupy-sort\"], sizes = [1000], command = \"python3 {}/cupy_sort.py --n {{n}} --key {{key_type}} --input {{input}} --checksum {{checksum}} --repetitions {{repetitions}} --warmup {{warmup}}\" }}\n",
            peers.display()
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::cargo_bin("sortmark")
        .unwrap()
        .env("PATH", path)
        .args([
            "run",
            def.to_str().unwrap(),
            "--out",
            root.path().join("archive").to_str().unwrap(),
        ])
        .assert();
    let output = out.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = PathBuf::from(stdout.lines().last().expect("a run folder"));
    let run: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();

    // The check names the failure, the exact exception and the CuPy 9128 remedy.
    let checks = run["checks"].as_array().unwrap();
    let failed: Vec<&Value> = checks.iter().filter(|c| c["status"] == "fail").collect();
    let import = failed
        .iter()
        .find(|c| c["detail"].as_str().unwrap_or("").contains(ATTRIBUTE_ERROR))
        .unwrap_or_else(|| panic!("no failed check carries the AttributeError: {checks:#?}"));
    let remedy = import["remedy"].as_str().unwrap_or("");
    assert!(
        remedy.contains("13.5") && remedy.contains("wheel"),
        "{remedy}"
    );
    assert!(
        failed
            .iter()
            .any(|c| c["id"].as_str().unwrap_or("").contains("9128")),
        "the known issue is matched: {failed:#?}"
    );

    // sortmark's own case ran and verified; the peer's case carries the import error.
    let cases = run["cases"].as_array().unwrap();
    let cpu = cases.iter().find(|c| c["sweep"] == "cpu").unwrap();
    assert_eq!(cpu["status"], "ok");
    let cupy = cases.iter().find(|c| c["sweep"] == "cupy").unwrap();
    assert_ne!(cupy["status"], "ok");
    assert!(
        cupy["reason"].as_str().unwrap().contains("AttributeError"),
        "{cupy}"
    );
    assert_eq!(run["complete"], true);
}
