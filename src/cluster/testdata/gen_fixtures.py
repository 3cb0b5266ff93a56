# Writes the derivation fixtures (kubectl `get -o json` List shapes, as a real cluster and the
# simulator produce them). Run from anywhere: python3 src/cluster/testdata/gen_fixtures.py
import json, hashlib, os
OUT=os.path.dirname(os.path.abspath(__file__))
def uid(*parts):
    h=hashlib.sha1('/'.join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
RV=[1000]
def rv():
    RV[0]+=7; return str(RV[0])
def meta(kind,ns,name,labels=None,owner=None,created="2026-11-01T09:00:00Z",ann=None,fin=None,deleted=None,grace=None,gen=None):
    m={"name":name,"namespace":ns,"uid":uid(kind,ns,name),"resourceVersion":rv(),"creationTimestamp":created}
    if gen: m["generation"]=gen
    if labels: m["labels"]=labels
    if ann: m["annotations"]=ann
    if owner:
        m["ownerReferences"]=[{"apiVersion":owner[0],"kind":owner[1],"name":owner[2],"uid":uid(owner[1],ns,owner[2]),"controller":True,"blockOwnerDeletion":True}]
    if fin: m["finalizers"]=fin
    if deleted: m["deletionTimestamp"]=deleted
    if grace is not None: m["deletionGracePeriodSeconds"]=grace
    return m
def cond(t,s,reason=None,msg=None,at="2026-11-01T09:01:00Z"):
    c={"type":t,"status":s,"lastTransitionTime":at}
    if reason: c["reason"]=reason
    if msg: c["message"]=msg
    return c
def isvc(ns,name,ready=True,replicas=2,**kw):
    st={"observedGeneration":1,"deploymentMode":"RawDeployment",
        "url":f"http://{name}-{ns}.example.com",
        "address":{"url":f"http://{name}-predictor.{ns}.svc.cluster.local"},
        "conditions":[cond("IngressReady","True"),cond("PredictorReady","True"),cond("Ready","True")] if ready else
          [cond("IngressReady","False","IngressNotCreated","Predictor ingress not created"),cond("PredictorReady","False","MinimumReplicasUnavailable","Deployment does not have minimum availability."),cond("Ready","False","MinimumReplicasUnavailable","Deployment does not have minimum availability.")],
        "modelStatus":{"states":{"activeModelState":"Loaded" if ready else "Pending","targetModelState":"Loaded"},"transitionStatus":"UpToDate" if ready else "InProgress"}}
    return {"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
        "metadata":meta("InferenceService",ns,name,labels={"team":"assistant"},ann={"serving.kserve.io/deploymentMode":"RawDeployment"},fin=kw.get("fin",["inferenceservice.finalizers"]),deleted=kw.get("deleted"),grace=kw.get("grace"),gen=1),
        "spec":{"predictor":{"minReplicas":replicas,"maxReplicas":replicas*2,"model":{"modelFormat":{"name":"huggingface"},"storageUri":"hf://meta-llama/Meta-Llama-3-8B-Instruct","resources":{"limits":{"nvidia.com/gpu":"1"}}}}},
        "status":st}
def deployment(ns,name,sel,labels,replicas=2,ready=2,owner=None,progress="NewReplicaSetAvailable",avail=True,deleted=None,fin=None,updated=None,grace=None):
    conds=[cond("Progressing","False" if progress=="ProgressDeadlineExceeded" else "True",progress,"ReplicaSet has successfully progressed."),
           cond("Available","True" if avail else "False","MinimumReplicasAvailable" if avail else "MinimumReplicasUnavailable","Deployment has minimum availability." if avail else "Deployment does not have minimum availability.")]
    return {"apiVersion":"apps/v1","kind":"Deployment","metadata":meta("Deployment",ns,name,labels=labels,owner=owner,gen=1,deleted=deleted,fin=fin,grace=grace,ann={"deployment.kubernetes.io/revision":"1"}),
        "spec":{"replicas":replicas,"selector":{"matchLabels":sel},"template":{"metadata":{"labels":dict(labels,**sel)},"spec":{"containers":[{"name":"kserve-container" if owner else "server","image":"vllm/vllm-openai:v0.6.3"}]}},
                "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}},
        "status":{"observedGeneration":1,"replicas":replicas,"updatedReplicas":replicas if updated is None else updated,"readyReplicas":ready,"availableReplicas":ready,"conditions":conds}}
def rs(ns,dep,h,sel,labels,replicas=2,ready=2):
    name=f"{dep}-{h}"
    return {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":meta("ReplicaSet",ns,name,labels=dict(labels,**sel,**{"pod-template-hash":h}),owner=("apps/v1","Deployment",dep),gen=1),
        "spec":{"replicas":replicas,"selector":{"matchLabels":dict(sel,**{"pod-template-hash":h})}},
        "status":{"replicas":replicas,"readyReplicas":ready,"availableReplicas":ready,"fullyLabeledReplicas":replicas,"observedGeneration":1}}
def pod(ns,name,labels,owner_rs=None,state="ready",restarts=0,deleted=None,grace=None,fin=None,container="server",phase=None,node="gpu-node-1"):
    cs={"name":container,"image":"vllm/vllm-openai:v0.6.3","imageID":"docker.io/vllm/vllm-openai@sha256:0f1e","containerID":"containerd://4b1d","restartCount":restarts,"started":True,"ready":state=="ready"}
    ready=state=="ready"
    if state in("ready","running"):
        cs["state"]={"running":{"startedAt":"2026-11-01T09:02:00Z"}}; ph="Running"
    elif state=="crashloop":
        cs["state"]={"waiting":{"reason":"CrashLoopBackOff","message":"back-off 5m0s restarting failed container=server pod="+name}}
        cs["lastState"]={"terminated":{"exitCode":1,"reason":"Error","startedAt":"2026-11-01T11:50:00Z","finishedAt":"2026-11-01T11:50:04Z"}}
        cs["started"]=False; ph="Running"
    elif state=="imagepull":
        cs={"name":container,"image":"ghcr.io/llmops/whisper-server:9.9.9","imageID":"","restartCount":0,"started":False,"ready":False,
            "state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"ghcr.io/llmops/whisper-server:9.9.9\""}}}
        ph="Pending"
    elif state=="creating":
        cs={"name":container,"image":"vllm/vllm-openai:v0.6.3","imageID":"","restartCount":0,"started":False,"ready":False,"state":{"waiting":{"reason":"ContainerCreating"}}}
        ph="Pending"
    elif state=="completed":
        cs["state"]={"terminated":{"exitCode":0,"reason":"Completed","startedAt":"2026-11-01T09:02:00Z","finishedAt":"2026-11-01T11:10:00Z"}}
        cs["ready"]=False; ph="Succeeded"
    if phase: ph=phase
    conds=[cond("Initialized","True"),cond("Ready","True" if ready else "False",None if ready else "ContainersNotReady"),cond("ContainersReady","True" if ready else "False"),cond("PodScheduled","True")]
    return {"apiVersion":"v1","kind":"Pod","metadata":meta("Pod",ns,name,labels=labels,owner=("apps/v1","ReplicaSet",owner_rs) if owner_rs else None,deleted=deleted,grace=grace,fin=fin),
        "spec":{"nodeName":node,"terminationGracePeriodSeconds":30,"containers":[{"name":container,"image":cs["image"],"ports":[{"containerPort":8080,"protocol":"TCP"}]}]},
        "status":{"phase":ph,"conditions":conds,"hostIP":"10.0.3.7","podIP":"10.244.3.17","startTime":"2026-11-01T09:01:30Z","containerStatuses":[cs],"qosClass":"Burstable"}}
def service(ns,name,labels,sel,owner=None,ip="10.96.12.34",deleted=None,fin=None):
    return {"apiVersion":"v1","kind":"Service","metadata":meta("Service",ns,name,labels=labels,owner=owner,deleted=deleted,fin=fin),
        "spec":{"type":"ClusterIP","clusterIP":ip,"clusterIPs":[ip],"selector":sel,"ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]},"status":{"loadBalancer":{}}}
def hpa(ns,name,target,labels,owner=None,mn=2,mx=4,cur=2):
    return {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":meta("HorizontalPodAutoscaler",ns,name,labels=labels,owner=owner),
        "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":target},"minReplicas":mn,"maxReplicas":mx,
                "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]},
        "status":{"currentReplicas":cur,"desiredReplicas":cur}}
def ingress(ns,name,hosts,labels,owner=None,cls="istio"):
    return {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":meta("Ingress",ns,name,labels=labels,owner=owner),
        "spec":{"ingressClassName":cls,"rules":[{"host":h,"http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":name,"port":{"number":80}}}}]}} for h in hosts]},
        "status":{"loadBalancer":{}}}
def lease(ns,name,holder,renew,dur=30,step=None,op=None,acquire="2026-11-01T11:58:00.000000Z"):
    ann={}
    if step: ann["llmops.io/step"]=step
    if op: ann["llmops.io/operation-id"]=op
    m=meta("Lease",ns,name,ann=ann or None)
    return {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":m,
        "spec":{"holderIdentity":holder,"leaseDurationSeconds":dur,"acquireTime":acquire,"renewTime":renew,"leaseTransitions":0}}
def kserve_endpoint(ns,name,replicas=2,ready=2,h="7d4b9c6f58",isvc_kw=None,pods=None):
    isvc_kw=isvc_kw or {}
    pred=f"{name}-predictor"
    own=("serving.kserve.io/v1beta1","InferenceService",name)
    labels={"serving.kserve.io/inferenceservice":name,"component":"predictor","team":"assistant"}
    sel={"app":f"isvc.{pred}"}
    objs=[isvc(ns,name,ready=ready==replicas,replicas=replicas,**isvc_kw),
          deployment(ns,pred,sel,labels,replicas,ready,owner=own,avail=ready>0),
          rs(ns,pred,h,sel,labels,replicas,ready),
          service(ns,pred,labels,sel,owner=own),
          hpa(ns,pred,pred,labels,owner=own,mn=replicas,mx=replicas*2,cur=replicas),
          ingress(ns,name,[f"{name}-{ns}.example.com",f"{pred}-{ns}.example.com"],labels,owner=own)]
    pods=pods or [("x7k2p","ready"),("m4q9z","ready")][:replicas]
    for sfx,stt in pods:
        objs.append(pod(ns,f"{pred}-{h}-{sfx}",dict(labels,**sel,**{"pod-template-hash":h}),owner_rs=f"{pred}-{h}",state=stt,container="kserve-container",restarts=7 if stt=="crashloop" else 0))
    return objs
def raw_endpoint(ns,name,replicas=2,ready=2,h="5f8d6b7c9d",pods=None,dep_kw=None):
    labels={"llm-ops.io/endpoint":name,"app":name,"team":"search"}
    sel={"app":name}
    objs=[deployment(ns,name,sel,labels,replicas,ready,**(dep_kw or {})),
          rs(ns,name,h,sel,labels,replicas,ready),
          service(ns,name,labels,sel,ip="10.96.40.2"),
          hpa(ns,name,name,labels,mn=replicas,mx=replicas*2,cur=replicas),
          ingress(ns,name,[f"{name}-{ns}.example.com"],labels,cls="nginx")]
    pods=pods or [("b2v8n","ready"),("k9w3r","ready")][:replicas]
    for sfx,stt in pods:
        objs.append(pod(ns,f"{name}-{h}-{sfx}",dict({"llm-ops.io/endpoint":name},**sel,**{"pod-template-hash":h}),owner_rs=f"{name}-{h}",state=stt,restarts=7 if stt=="crashloop" else 0))
    return objs
def write(name,items,comment):
    with open(os.path.join(OUT,name),'w') as f:
        json.dump({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"x-fixture":comment,"items":items},f,indent=1)
        f.write("\n")

# 1. a healthy fleet: KServe + raw + an unrelated Deployment
write("healthy.json",
  kserve_endpoint("llm-prod","llama-3-8b-instruct")+raw_endpoint("llm-prod","bge-reranker")+
  [deployment("llm-prod","grafana",{"app":"grafana"},{"app":"grafana"},1,1)],
  "Ready KServe endpoint (isvc -> deploy -> rs -> pods, svc, hpa, ingress owned by the isvc) and a Ready raw endpoint; grafana has no endpoint label")
# 2. crash loops
write("crashloop.json",
  kserve_endpoint("llm-prod","mistral-7b-instruct",replicas=2,ready=1,pods=[("x7k2p","ready"),("c8d2f","crashloop")])+
  raw_endpoint("llm-staging","whisper-large",replicas=1,ready=0,pods=[("p5s7t","imagepull")]),
  "A KServe pod in CrashLoopBackOff (7 restarts) beside a Ready one; a raw endpoint whose only pod is in ImagePullBackOff")
# 3. terminating isvc
write("isvc-terminating.json",
  kserve_endpoint("llm-prod","llama-3-70b-instruct",isvc_kw={"deleted":"2026-11-01T11:47:57Z","grace":0}),
  "InferenceService deleted 12m3s before 12:00:00 and held by inferenceservice.finalizers (KServe deletion broken); its children still exist")
# 4. stuck pod past grace, leftover of an old RS
wl=raw_endpoint("llm-prod","whisper-large",replicas=1,ready=1,pods=[("q8f4d","ready")])
wl.append(pod("llm-prod","whisper-large-6c9d7f5b8-q2x7k",{"app":"whisper-large","llm-ops.io/endpoint":"whisper-large","pod-template-hash":"6c9d7f5b8"},
   state="running",deleted="2026-11-01T11:13:30Z",grace=30,fin=["example.com/stuck-volume-cleanup"],node="gpu-node-3"))
write("stuck-pod.json", wl,
  "A leftover pod of whisper-large's previous ReplicaSet (no ownerReferences), deletionTimestamp 11:13:30 with a 30s grace (deletion asked 47m ago), held by example.com/stuck-volume-cleanup")
# 5. rollout: pod in its grace period
ro=raw_endpoint("llm-staging","bge-m3-embed",replicas=2,ready=1,h="66c7b8d9f4",pods=[("n2m4k","ready"),("z7x1c","creating")],dep_kw={"updated":2})
ro[0]["status"]["conditions"][0]["reason"]="ReplicaSetUpdated"
ro[0]["status"]["conditions"][1]=cond("Available","True","MinimumReplicasAvailable","Deployment has minimum availability.")
old=rs("llm-staging","bge-m3-embed","5f8d6b7c9d",{"app":"bge-m3-embed"},{"llm-ops.io/endpoint":"bge-m3-embed","app":"bge-m3-embed"},0,0)
ro.append(old)
ro.append(pod("llm-staging","bge-m3-embed-5f8d6b7c9d-h3j5l",{"app":"bge-m3-embed","llm-ops.io/endpoint":"bge-m3-embed","pod-template-hash":"5f8d6b7c9d"},
   owner_rs="bge-m3-embed-5f8d6b7c9d",state="running",deleted="2026-11-01T12:00:20Z",grace=30))
write("rollout.json", ro, "A raw endpoint mid-rollout: new pod ContainerCreating, old pod Terminating in its grace period (10s in, 20s left)")
# 6. leases
ls=raw_endpoint("llm-prod","bge-reranker")+kserve_endpoint("llm-prod","llama-3-8b-instruct")
ls.append(lease("llm-prod","llmops-console-bge-reranker","alice@ops-1/4242","2026-11-01T11:59:50.123456Z",30,step="verify-deletion",op="op-20261101-115800-bge"))
ls.append(lease("llm-prod","llmops-console-llama-3-8b-instruct","bob@ops-2/777","2026-11-01T11:40:00.000000Z",30,step="create",op="op-old",acquire="2026-11-01T11:39:00.000000Z"))
ls.append(lease("llm-prod","llmops-console-phi-3-mini","carol@ops-3/99","2026-11-01T11:59:58.000000Z",30,step="create",op="op-phi"))
ls.append(lease("kube-system","kube-scheduler","node-1_abc","2026-11-01T11:59:59.000000Z",15))
write("leases.json", ls, "bge-reranker has a live lease (renewed 10s ago, 30s duration); llama-3-8b-instruct an expired one (20m old); phi-3-mini a live lease and no objects (mid-redeploy); kube-scheduler is not the console's")
# 7. orphans: kserve children without their isvc (GC down)
orph=[o for o in kserve_endpoint("llm-staging","qwen2-7b-instruct") if o["kind"]!="InferenceService"]
for o in orph:
    if o["kind"] in ("Deployment","Service","HorizontalPodAutoscaler","Ingress"):
        del o["metadata"]["ownerReferences"]
write("orphans.json", orph, "qwen2-7b-instruct's InferenceService is gone but its Deployment, ReplicaSet, pods, Service, HPA and Ingress remain (orphan-deleted)")
print("ok")
