//! Discovery, get/list across namespaces with label and field selectors, and the `-o json`,
//! `-o yaml` and `-o name` forms.

use serde_json::Value;

use super::{item_names, parse_table, sim_with_kubectl, stderr, stdout};

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn version_and_api_resources() {
    let Some(sim) = sim_with_kubectl("version_and_api_resources", "healthy") else {
        return;
    };

    let version = sim.kubectl_json(&["version", "-o", "json"]);
    let server = &version["serverVersion"];
    assert!(
        server["major"].is_string() && server["gitVersion"].is_string(),
        "kubectl saw no server version: {version}"
    );

    let resources = sim.kubectl_ok(&["api-resources"]);
    let rows = parse_table(&resources);
    let isvc = rows
        .iter()
        .find(|row| row["NAME"] == "inferenceservices")
        .unwrap_or_else(|| panic!("no inferenceservices in kubectl api-resources:\n{resources}"));
    assert_eq!(isvc["SHORTNAMES"], "isvc", "{resources}");
    assert_eq!(isvc["APIVERSION"], "serving.kserve.io/v1beta1");
    assert_eq!(isvc["NAMESPACED"], "true");
    assert_eq!(isvc["KIND"], "InferenceService");
    for (name, short) in [
        ("deployments", "deploy"),
        ("pods", "po"),
        ("services", "svc"),
        ("leases", ""),
        ("configmaps", "cm"),
    ] {
        let row = rows
            .iter()
            .find(|row| row["NAME"] == name)
            .unwrap_or_else(|| panic!("no {name} in kubectl api-resources:\n{resources}"));
        assert_eq!(row["SHORTNAMES"], short, "{resources}");
    }

    // The short name resolves through discovery, as on a real cluster.
    let names = sim.kubectl_ok(&["get", "isvc", "-n", "llm-prod", "-o", "name"]);
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "inferenceservice.serving.kserve.io/llama-3-8b-instruct",
            "inferenceservice.serving.kserve.io/mistral-7b-instruct"
        ]
    );
    let by_group = sim.kubectl_ok(&[
        "api-resources",
        "--api-group=serving.kserve.io",
        "-o",
        "name",
    ]);
    assert_eq!(by_group.trim(), "inferenceservices.serving.kserve.io");
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn get_across_namespaces_with_label_and_field_selectors() {
    let Some(sim) = sim_with_kubectl("get_with_selectors", "healthy") else {
        return;
    };

    // Every namespace, a label selector: one row per matching object with its namespace.
    let out = sim.kubectl_ok(&["get", "isvc", "-A", "-l", "team=assistant"]);
    let rows = parse_table(&out);
    let found: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["NAMESPACE"].as_str(), r["NAME"].as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("llm-prod", "llama-3-8b-instruct"),
            ("llm-prod", "mistral-7b-instruct"),
            ("llm-staging", "llama-3-8b-instruct"),
            ("llm-staging", "qwen2-7b-instruct"),
        ],
        "{out}"
    );

    // Label and field selectors together; set-based label selector; != on the namespace.
    let out = sim.kubectl_ok(&[
        "get",
        "deploy",
        "-A",
        "-l",
        "team in (search,speech)",
        "--field-selector",
        "metadata.namespace!=llm-staging",
        "-o",
        "name",
    ]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "deployment.apps/bge-reranker",
            "deployment.apps/whisper-large"
        ],
        "{out}"
    );
    let list = sim.kubectl_json(&[
        "get",
        "isvc",
        "-A",
        "--field-selector",
        "metadata.name=llama-3-8b-instruct,metadata.namespace=llm-staging",
        "-o",
        "json",
    ]);
    assert_eq!(item_names(&list), ["llama-3-8b-instruct"]);
    assert_eq!(list["items"][0]["metadata"]["namespace"], "llm-staging");
    let list = sim.kubectl_json(&["get", "svc", "-A", "-l", "team=search,!nope", "-o", "json"]);
    assert_eq!(
        item_names(&list),
        ["bge-reranker", "bge-m3-embed"],
        "{list}"
    );

    // Nothing matches: exit 0 and kubectl's "No resources found" on stderr.
    let none = sim.kubectl(&["get", "deploy", "-n", "llm-prod", "-l", "team=nobody"]);
    assert!(none.status.success(), "{}", stderr(&none));
    assert_eq!(stdout(&none), "");
    assert!(
        stderr(&none).contains("No resources found in llm-prod namespace."),
        "{}",
        stderr(&none)
    );

    // Selectors the apiserver refuses: custom resources only select on name and namespace.
    let bad = sim.kubectl_fails(&["get", "isvc", "-A", "--field-selector", "spec.foo=1"]);
    assert!(
        stderr(&bad).contains("field label not supported: spec.foo"),
        "{}",
        stderr(&bad)
    );
    let bad = sim.kubectl_fails(&["get", "pods", "-A", "-l", "a in (b"]);
    assert!(!stderr(&bad).is_empty());

    // A namespace that does not exist lists nothing, as on a real cluster.
    let empty = sim.kubectl(&["get", "deploy", "-n", "no-such-ns"]);
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert!(stderr(&empty).contains("No resources found in no-such-ns namespace."));

    // A named object that does not exist: NotFound, exit 1.
    let missing = sim.kubectl_fails(&["get", "deploy", "nope", "-n", "llm-prod"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains(r#"deployments.apps "nope" not found"#),
        "{}",
        stderr(&missing)
    );
}

#[test]
#[ignore = "needs kubectl: run via .ci/run or set KUBECTL"]
fn get_output_json_and_yaml() {
    let Some(sim) = sim_with_kubectl("get_output_json_and_yaml", "healthy") else {
        return;
    };

    let yaml = sim.kubectl_ok(&[
        "get",
        "deploy",
        "bge-reranker",
        "-n",
        "llm-prod",
        "-o",
        "yaml",
    ]);
    let dep: Value = serde_yaml_ng::from_str(&yaml)
        .unwrap_or_else(|e| panic!("kubectl -o yaml printed no YAML ({e}):\n{yaml}"));
    assert_eq!(dep["apiVersion"], "apps/v1");
    assert_eq!(dep["kind"], "Deployment");
    let md = &dep["metadata"];
    assert_eq!(md["name"], "bge-reranker");
    assert_eq!(md["namespace"], "llm-prod");
    assert_eq!(md["labels"]["team"], "search");
    for field in ["uid", "resourceVersion", "creationTimestamp"] {
        assert!(md[field].is_string(), "no metadata.{field}:\n{yaml}");
    }
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(
        dep["spec"]["selector"]["matchLabels"]["app"],
        "bge-reranker"
    );
    // The apiserver's defaults show in the pod template.
    let pod_spec = &dep["spec"]["template"]["spec"];
    assert_eq!(pod_spec["restartPolicy"], "Always", "{yaml}");
    assert_eq!(pod_spec["dnsPolicy"], "ClusterFirst");
    let container = &pod_spec["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent", "{yaml}");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");

    // The same object as JSON is the same object.
    let json = sim.kubectl_json(&[
        "get",
        "deploy",
        "bge-reranker",
        "-n",
        "llm-prod",
        "-o",
        "json",
    ]);
    assert_eq!(json["metadata"]["uid"], md["uid"]);
    assert_eq!(json["spec"]["template"], dep["spec"]["template"]);

    // A list across namespaces: kubectl wraps it as a v1 List of complete objects.
    let list = sim.kubectl_json(&["get", "isvc", "-A", "-o", "json"]);
    assert_eq!(list["kind"], "List");
    assert_eq!(list["apiVersion"], "v1");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "{list}");
    for item in items {
        assert_eq!(item["apiVersion"], "serving.kserve.io/v1beta1");
        assert_eq!(item["kind"], "InferenceService");
    }
    let llama = items
        .iter()
        .find(|i| {
            i["metadata"]["namespace"] == "llm-prod"
                && i["metadata"]["name"] == "llama-3-8b-instruct"
        })
        .expect("llm-prod/llama-3-8b-instruct");
    assert_eq!(
        llama["spec"]["predictor"]["model"]["storageUri"],
        "hf://meta-llama/Meta-Llama-3-8B-Instruct"
    );
    assert_eq!(llama["metadata"]["labels"]["team"], "assistant");

    // jsonpath reads the same fields.
    let uri = sim.kubectl_ok(&[
        "get",
        "isvc",
        "mistral-7b-instruct",
        "-n",
        "llm-prod",
        "-o",
        "jsonpath={.spec.predictor.model.storageUri}",
    ]);
    assert_eq!(uri, "hf://mistralai/Mistral-7B-Instruct-v0.3");
}
