use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::*;
use crate::sim::controllers::slow_finalizer::{DELAY_ANNOTATION, FINALIZER};
use crate::sim::kinds::CONFIGMAPS;

fn config_map() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cfg",
            "finalizers": [FINALIZER],
            "annotations": {DELAY_ANNOTATION: "1s"},
        },
        "data": {"a": "b"},
    })
}

#[tokio::test]
async fn slow_finalizer_goes_after_its_delay_and_an_early_create_conflicts() {
    let sim = Sim::start();
    sim.create(&CONFIGMAPS, config_map());
    let started = Instant::now();
    assert!(matches!(
        sim.delete(&CONFIGMAPS, "cfg", None),
        DeleteOutcome::Terminating(_)
    ));
    let err = sim
        .store()
        .create(&CONFIGMAPS, NS, config_map(), &WriteOptions::default())
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    sim.wait("the finalizer to go", TIMEOUT, |s| {
        s.get(&CONFIGMAPS, "cfg").is_none().then_some(())
    })
    .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    sim.create(&CONFIGMAPS, config_map());
}
