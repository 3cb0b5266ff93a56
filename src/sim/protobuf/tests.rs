//! The fixtures under `testdata/` are request bodies kubectl 1.37.1 sent (captured by a plain HTTP
//! server): `create configmap|namespace|service clusterip|deployment` and `auth can-i`.

use serde_json::json;

use super::*;

#[test]
fn configmap_from_kubectl_create() {
    let obj = decode(include_bytes!("testdata/configmap.bin")).unwrap();
    assert_eq!(
        obj,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "cfg1", "namespace": "llm-prod"},
               "data": {"a": "1", "b": "two"}})
    );
}

#[test]
fn namespace_from_kubectl_create() {
    let obj = decode(include_bytes!("testdata/namespace.bin")).unwrap();
    assert_eq!(
        obj,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "newns"},
               "spec": {}, "status": {}})
    );
}

#[test]
fn access_review_from_kubectl_auth_can_i() {
    let obj = decode(include_bytes!("testdata/ssar.bin")).unwrap();
    assert_eq!(obj["kind"], "SelfSubjectAccessReview");
    assert_eq!(obj["apiVersion"], "authorization.k8s.io/v1");
    assert_eq!(
        obj["spec"],
        json!({"resourceAttributes": {"namespace": "llm-prod", "verb": "delete",
               "group": "serving.kserve.io", "resource": "inferenceservices", "name": "llama"}})
    );
    assert_eq!(obj["status"], json!({}));
}

#[test]
fn service_from_kubectl_create() {
    let obj = decode(include_bytes!("testdata/service.bin")).unwrap();
    assert_eq!(
        obj["spec"],
        json!({"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
               "selector": {"app": "s1"}, "type": "ClusterIP"})
    );
    assert_eq!(obj["metadata"]["labels"], json!({"app": "s1"}));
}

#[test]
fn deployment_from_kubectl_create() {
    let obj = decode(include_bytes!("testdata/deployment.bin")).unwrap();
    assert_eq!(
        obj,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "d1", "namespace": "llm-prod", "labels": {"app": "d1"}},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d1"}},
                        "template": {"metadata": {"labels": {"app": "d1"}},
                                     "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                              "resources": {}}]}},
                        "strategy": {}},
               "status": {}})
    );
}

#[test]
fn refusals() {
    assert_eq!(decode(b"{}"), Err(ProtoError::NoMagic));
    // Envelope naming a kind without a schema.
    let mut body = b"k8s\x00".to_vec();
    let tm = [&[0x0a, 2][..], b"v1", &[0x12, 3], b"Pod"].concat();
    body.extend([0x0a, tm.len() as u8]);
    body.extend(&tm);
    assert!(matches!(decode(&body), Err(ProtoError::UnknownKind(k)) if k == "Pod (v1)"));
    // A ConfigMap with a non-zero field the schema does not know (field 9, varint 1).
    let mut body = b"k8s\x00".to_vec();
    let tm = [&[0x0a, 2][..], b"v1", &[0x12, 9], b"ConfigMap"].concat();
    body.extend([0x0a, tm.len() as u8]);
    body.extend(&tm);
    body.extend([0x12, 2, 9 << 3, 1]);
    assert_eq!(
        decode(&body),
        Err(ProtoError::UnknownField {
            message: "ConfigMap",
            field: 9
        })
    );
    // Truncated.
    assert!(matches!(
        decode(b"k8s\x00\x0a\x05ab"),
        Err(ProtoError::Malformed(_))
    ));
}

#[test]
fn base64_pads() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
}
