//! `--anonymize` holds: each kind of identifying string planted in a run appears in no file the
//! run writes (results.json, the reports, the CSV, the notebook, the archive indexes).

use std::fs;
use std::path::{Path, PathBuf};

use crate::report::synthetic_run;
use crate::support::sortmark;

/// Every file under `root` with its text (images are not text and hold none of these).
fn every_text_file(root: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(every_text_file(&path));
        } else if path.extension().is_none_or(|e| e != "png") {
            files.push((
                path.clone(),
                String::from_utf8_lossy(&fs::read(&path).unwrap()).into(),
            ));
        }
    }
    files
}

/// Fails naming the file and the planted string, wherever one is found.
fn assert_absent(root: &Path, planted: &[&str]) {
    let files = every_text_file(root);
    assert!(files.len() >= 7, "too few outputs: {files:?}");
    for (path, text) in files {
        for p in planted {
            assert!(!text.contains(p), "{p} in {}", path.display());
        }
    }
}

#[test]
fn an_anonymized_run_leaves_its_home_user_python_and_out_paths_in_no_output() {
    let root = tempfile::tempdir().unwrap();
    // The user's home, with a Python virtual environment first on PATH inside it.
    let home = root.path().join("qzuserplant");
    let venv = home.join("venv-qz");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip", venv.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let bin = venv.join("bin");
    let out = root.path().join("qzoutplant-archive");
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/peers");
    let def = root.path().join("peer.toml");
    fs::write(
        &def,
        format!(
            "title = \"A peer\"\n[measure]\nwarmup = 0\nrepetitions = 2\nmax_repetitions = 2\n\
             [[cell]]\nsweep = {{ name = \"cpu\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [1000, 2000] }}\n\
             [[cell]]\nsweep = {{ name = \"numpy\", backend = \"command\", algorithms = [\"numpy-sort\"], sizes = [1000], command = \"python3 {}/numpy_sort.py --n {{n}} --key {{key_type}} --input {{input}} --checksum {{checksum}} --repetitions {{repetitions}} --warmup {{warmup}}\" }}\n",
            peers.display()
        ),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = sortmark()
        .env("HOME", &home)
        .env("USER", "qzuserplant")
        .env("PATH", path)
        .args([
            "run",
            def.to_str().unwrap(),
            "--anonymize",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = PathBuf::from(stdout.lines().last().expect("a run folder"));
    let results = fs::read_to_string(dir.join("results.json")).unwrap();
    // The interpreter was recorded, under its home folder's placeholder.
    assert!(results.contains("~/venv-qz/bin/python3"), "{results}");
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let mut planted = vec!["qzuserplant", "qzoutplant", home.to_str().unwrap()];
    // A short host name (`vm`) is also part of ordinary words: only a longer one is searched.
    if host.trim().len() > 4 {
        planted.push(host.trim());
    }
    assert_absent(&out, &planted);
}

#[test]
fn an_anonymized_run_leaves_ip_mac_gpu_uuid_and_serial_in_no_output() {
    let mut run = synthetic_run("Planted", "A run whose environment names its devices.");
    run.environment.anonymized = true;
    let uuid = "GPU-6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
    run.environment.gpus[0].name = format!("NVIDIA H100 ({uuid})");
    run.environment.os.version =
        "eth0 10.42.17.3 3c:ec:ef:a1:b2:c3 fe80::1c2b:3dff:fe4e:5f60".into();
    run.environment.gpu_links_note = Some("Serial Number: 1320221019478".into());
    run.cases[0]
        .notes
        .push(format!("ran on {uuid} at 10.42.17.3"));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("planted").join(&run.run_id);
    fs::create_dir_all(&dir).unwrap();
    sortmark::record::archive::save_results(&dir, &run).unwrap();
    sortmark::report::render_all(&run, &dir).unwrap();
    sortmark::report::index::update(root.path()).unwrap();
    assert_absent(
        root.path(),
        &[
            "6f1e2d3c-4b5a",
            "10.42.17.3",
            "3c:ec:ef:a1:b2:c3",
            "fe80::1c2b",
            "1320221019478",
        ],
    );
    let results = fs::read_to_string(dir.join("results.json")).unwrap();
    assert!(results.contains("NVIDIA H100 (GPU-[uuid])"), "{results}");
}
