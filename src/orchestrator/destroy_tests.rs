//! Unit tests of the wording of stuck objects and of the escalation order.

use super::*;

fn stuck(kind: &str, name: &str) -> StuckObject {
    StuckObject {
        object: ObjectId {
            kind: kind.into(),
            namespace: "llm-prod".into(),
            name: name.into(),
            uid: format!("uid-{name}"),
        },
        finalizers: Vec::new(),
        terminating_for_seconds: None,
        awaiting_gc: None,
    }
}

#[test]
fn objects_nobody_deleted_yet_wait_for_garbage_collection_not_terminating() {
    let mut dep = stuck("Deployment", "llama-predictor");
    dep.awaiting_gc = Some("InferenceService llama".into());
    let line = describe_stuck(&dep);
    assert_eq!(
        line,
        "Deployment llm-prod/llama-predictor is waiting for garbage collection (not deleted \
         yet: it goes once its owner InferenceService llama is gone)"
    );
    assert!(!line.contains("Terminating"), "{line}");
    let mut isvc = stuck("InferenceService", "llama");
    isvc.finalizers = vec!["inferenceservice.finalizers".into()];
    isvc.terminating_for_seconds = Some(720);
    assert_eq!(
        describe_stuck(&isvc),
        "InferenceService llm-prod/llama is Terminating for 12m, held by finalizer \
         inferenceservice.finalizers"
    );
    let mut pod = stuck("Pod", "llama-predictor-abc");
    pod.terminating_for_seconds = Some(-29);
    assert_eq!(
        describe_stuck(&pod),
        "Pod llm-prod/llama-predictor-abc is Terminating (grace period, ends in 29s)"
    );
    assert_eq!(
        summary(&[isvc.clone(), dep.clone(), pod.clone()]),
        "1 held by finalizers, 1 waiting for garbage collection, 1 Terminating without finalizers"
    );
    assert_eq!(
        prompt(OpKind::Redeploy, &[isvc.clone(), dep]),
        "2 objects will not go (1 held by finalizers, 1 waiting for garbage collection). \
         Force-delete pods (grace 0), strip finalizers and delete again?"
    );
    // A force-delete deleted its pods with grace 0 already: it does not offer that again.
    assert_eq!(
        prompt(OpKind::ForceDelete, &[isvc]),
        "1 object will not go (1 held by finalizers). Strip their finalizers and delete again?"
    );
}

#[test]
fn escalation_goes_from_the_root_to_the_pods() {
    let mut order = vec![
        "Pod",
        "ReplicaSet",
        "Deployment",
        "InferenceService",
        "Service",
    ];
    order.sort_by_key(|k| escalation_rank(k));
    assert_eq!(
        order,
        [
            "InferenceService",
            "Deployment",
            "Service",
            "ReplicaSet",
            "Pod"
        ]
    );
}
