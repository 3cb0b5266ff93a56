//! Lists: kinds, paging with `limit`/`continue` at one resourceVersion, selectors (k8s-api.md §4).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::support::*;

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("a name").to_string())
        .collect()
}

#[tokio::test]
async fn lists_carry_kind_api_version_and_resource_version() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(CMS, &configmap("a")).await;
    sim.create(ISVCS, &isvc("m")).await;
    let list = sim.get(CMS).await.expect(200);
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["apiVersion"], "v1");
    assert!(list["metadata"]["resourceVersion"].as_str().is_some());
    assert!(list["metadata"].get("continue").is_none());
    assert!(list["metadata"].get("remainingItemCount").is_none());
    assert_eq!(names(&list), ["a"]);
    let list = sim.get(ISVCS).await.expect(200);
    assert_eq!(list["kind"], "InferenceServiceList");
    assert_eq!(list["apiVersion"], "serving.kserve.io/v1beta1");
    assert_eq!(names(&list), ["m"]);
    // Items are whole objects with their own type and revision.
    assert_eq!(list["items"][0]["kind"], "InferenceService");
    assert!(list["items"][0]["metadata"]["resourceVersion"].is_string());
    sim.stop().await;
}

#[tokio::test]
async fn paging_keeps_one_resource_version_and_ends_without_continue() {
    let sim = Sim::start("healthy").await;
    for i in 0..7 {
        sim.create(CMS, &configmap(&format!("cm-{i}"))).await;
    }
    // kube-rs asks with a leading `?&`.
    let first = sim.get(&format!("{CMS}?&limit=3")).await.expect(200);
    let list_rv = first["metadata"]["resourceVersion"].clone();
    assert_eq!(names(&first), ["cm-0", "cm-1", "cm-2"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 4);
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("a continue token");

    // Changes after the first page do not show in later pages, and their revision does not
    // leak into the list's.
    sim.create(CMS, &configmap("cm-late")).await;
    sim.delete(&cm_path("cm-4"), None).await.expect(200);

    let second = sim
        .get(&format!("{CMS}?&limit=3&continue={token}"))
        .await
        .expect(200);
    assert_eq!(second["metadata"]["resourceVersion"], list_rv);
    assert_eq!(names(&second), ["cm-3", "cm-4", "cm-5"]);
    assert_eq!(second["metadata"]["remainingItemCount"], 1);
    let token = second["metadata"]["continue"]
        .as_str()
        .expect("a continue token");

    let last = sim
        .get(&format!("{CMS}?&limit=3&continue={token}"))
        .await
        .expect(200);
    assert_eq!(last["metadata"]["resourceVersion"], list_rv);
    assert_eq!(names(&last), ["cm-6"]);
    assert!(last["metadata"].get("continue").is_none(), "{last}");
    assert!(
        last["metadata"].get("remainingItemCount").is_none(),
        "{last}"
    );

    // A limit that fits everything: one page, no continue.
    let all = sim.get(&format!("{CMS}?limit=500")).await.expect(200);
    assert!(all["metadata"].get("continue").is_none());
    let seen: BTreeSet<String> = names(&all).into_iter().collect();
    assert!(seen.contains("cm-late") && !seen.contains("cm-4"));
    // A page size equal to the number of objects: no continue either.
    let n = names(&all).len();
    let exact = sim.get(&format!("{CMS}?limit={n}")).await.expect(200);
    assert!(exact["metadata"].get("continue").is_none());
    assert_eq!(names(&exact).len(), n);
    sim.stop().await;
}

#[tokio::test]
async fn every_page_of_a_large_list_is_consistent() {
    let sim = Sim::start("healthy").await;
    for i in 0..23 {
        sim.create(CMS, &configmap(&format!("p-{i:02}"))).await;
    }
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    let mut rv = None;
    loop {
        let q = match &token {
            None => format!("{CMS}?limit=5"),
            Some(t) => format!("{CMS}?limit=5&continue={t}"),
        };
        let page = sim.get(&q).await.expect(200);
        let page_rv = page["metadata"]["resourceVersion"].clone();
        assert_eq!(*rv.get_or_insert(page_rv.clone()), page_rv);
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) => {
                let left = page["metadata"]["remainingItemCount"].as_u64().unwrap();
                assert_eq!(left as usize, 23 - seen.len());
                token = Some(t.to_string());
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|i| format!("p-{i:02}")).collect();
    assert_eq!(seen, expected);
    sim.stop().await;
}

#[tokio::test]
async fn bad_and_unknown_continue_tokens() {
    let sim = Sim::start("healthy").await;
    sim.get(&format!("{CMS}?continue=garbage"))
        .await
        .expect_status_naming(400, "BadRequest", &["continue", "garbage"]);
    sim.get(&format!("{CMS}?limit=1&continue=999999-1"))
        .await
        .expect_status_naming(410, "Expired", &["continue parameter is too old"]);
    // Huge offsets and limits are answered, not overflowed.
    for i in 0..3 {
        sim.create(CMS, &configmap(&format!("o-{i}"))).await;
    }
    let first = sim.get(&format!("{CMS}?limit=1")).await.expect(200);
    let token = first["metadata"]["continue"].as_str().unwrap();
    let id = token.split('-').next().unwrap();
    let r = sim
        .get(&format!(
            "{CMS}?limit=9223372036854775807&continue={id}-18446744073709551615"
        ))
        .await
        .expect(200);
    assert_eq!(names(&r), Vec::<String>::new());
    sim.get(&format!("{CMS}?limit=9223372036854775807"))
        .await
        .expect(200);
    sim.get(&format!("{CMS}?limit=-5")).await.expect(200);
    sim.get(&format!("{CMS}?limit=lots"))
        .await
        .expect_status_naming(400, "BadRequest", &["limit", "lots"]);
    sim.stop().await;
}

#[tokio::test]
async fn label_and_field_selectors_filter() {
    let sim = Sim::start("healthy").await;
    let objects = [
        ("s1", json!({"a": "b", "c": "x", "e": "x", "g": "1"})),
        ("s2", json!({"a": "b", "c": "d", "e": "x", "g": "1"})),
        ("s3", json!({"a": "b", "e": "y", "f": "z", "g": "1"})),
        ("s4", json!({"a": "b", "e": "y", "g": "1", "h": "1"})),
        ("s5", json!({"a": "other", "e": "x", "g": "1"})),
        ("s6", json!({"a": "b", "e": "x"})),
    ];
    for (name, labels) in &objects {
        sim.create(CMS, &configmap_labelled(name, labels.clone()))
            .await;
    }
    // a=b,a==b,c!=d,e in (x,y),f notin (z),g,!h
    let sel = "a%3Db%2Ca%3D%3Db%2Cc!%3Dd%2Ce%20in%20(x%2Cy)%2Cf%20notin%20(z)%2Cg%2C!h";
    let list = sim
        .get(&format!("{CMS}?labelSelector={sel}"))
        .await
        .expect(200);
    assert_eq!(names(&list), ["s1"]);
    let list = sim
        .get(&format!("{CMS}?fieldSelector=metadata.name%3Ds3"))
        .await
        .expect(200);
    assert_eq!(names(&list), ["s3"]);
    let list = sim
        .get(&format!(
            "{CMS}?fieldSelector=metadata.name!%3Ds3,metadata.namespace%3Dwire&labelSelector=e%3Dy"
        ))
        .await
        .expect(200);
    assert_eq!(names(&list), ["s4"]);
    // Across namespaces: the namespace field selects.
    let list = sim
        .get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dwire,metadata.name%3Ds5")
        .await
        .expect(200);
    assert_eq!(names(&list), ["s5"]);
    // Selectors apply before paging.
    let page = sim
        .get(&format!("{CMS}?labelSelector=e%3Dx&limit=2"))
        .await
        .expect(200);
    assert_eq!(names(&page), ["s1", "s2"]);
    assert_eq!(page["metadata"]["remainingItemCount"], 2);
    sim.stop().await;
}

#[tokio::test]
async fn list_option_validation_is_the_apiservers() {
    let sim = Sim::start("healthy").await;
    let d = sim
        .get(&format!("{CMS}?resourceVersionMatch=NotOlderThan"))
        .await
        .expect_status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
        );
    assert_eq!(
        d,
        json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{
            "reason": "FieldValueForbidden",
            "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            "field": "resourceVersionMatch",
        }]})
    );
    sim.get(&format!("{CMS}?sendInitialEvents=true"))
        .await
        .expect_status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
        );
    let d = sim
        .get(&format!("{CMS}?resourceVersion=0&resourceVersionMatch=Sometimes"))
        .await
        .expect_status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"Sometimes\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
        );
    assert_eq!(d["causes"][0]["reason"], "FieldValueNotSupported");
    sim.get(&format!(
        "{CMS}?resourceVersion=1&resourceVersionMatch=NotOlderThan"
    ))
    .await
    .expect(200);
    sim.stop().await;
}
