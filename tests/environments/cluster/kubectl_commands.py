"""Everyday kubectl invocations and how Kubernetes answers them (exit code, a pattern of the output).

Run in order in one sandbox by ``test_lb_real_kubectl.py``: later commands see what earlier
ones changed. ``{POD}`` is the name of a running agent-api pod.
"""

from __future__ import annotations

AGENT = "/workspace/agent/deployment.yaml"
SCALED = "/tmp/scaled.yaml"
OK = 0
FAIL = 1

COMMANDS: list[tuple[str, int, str]] = [
    # discovery and cluster
    ("kubectl version --short", OK, r"Client Version: v1\.20\.2\nServer Version: v1\.20\.2"),
    ("kubectl cluster-info", OK, r"Kubernetes control plane.* is running at .*http://127\.0\.0\.1:6443"),
    ("kubectl api-resources", OK, r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment"),
    ("kubectl api-resources --namespaced=false -o name", OK, r"^namespaces\nnodes\n"),
    ("kubectl api-versions", OK, r"apps/v1\nauthorization\.k8s\.io/v1\nautoscaling/v1\nbatch/v1"),
    ("kubectl config current-context", OK, r"^agent@prod\n$"),
    ("kubectl get namespaces", OK, r"default\s+Active"),
    ("kubectl get nodes", OK, r"NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode-1\s+Ready\s+worker\s+\S+\s+v1\.20\.2"),
    ("kubectl get nodes -o wide", OK, r"INTERNAL-IP.*CONTAINER-RUNTIME\nnode-1 .*192\.168\.49\.2"),
    ("kubectl describe node node-1", OK, r"Name:\s+node-1[\s\S]*Allocatable:[\s\S]*cpu:\s+4"),
    ("kubectl top nodes", OK, r"NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%\s*\nnode-1\s+\d+m\s+\d+%"),
    # reading workloads
    ("kubectl get pods", OK, r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nagent-api-\w+-\w{5}\s+1/1\s+Running\s+0"),
    ("kubectl get po -o wide", OK, r"IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n.*10\.244\.\d+\.\d+\s+node-\d"),
    ("kubectl get pods --show-labels", OK, r"LABELS\n.*app=agent-api,pod-template-hash=\w+"),
    ("kubectl get pods -l app=agent-api -o name", OK, r"^pod/agent-api-\w+-\w{5}\n$"),
    ("kubectl get pods -l 'app in (metrics-server)' --no-headers", OK, r"^metrics-server-\S+\s+1/1\s+Running"),
    ("kubectl get pods -A", OK, r"NAMESPACE\s+NAME\s+READY.*\ndefault\s+agent-api-"),
    ("kubectl get pods -n kube-system", OK, r"No resources found in kube-system namespace\."),
    ("kubectl get pods -o json", OK, r'"phase": "Running"[\s\S]*"kind": "List"'),
    ("kubectl get pods -o jsonpath='{.items[*].status.phase}'", OK, r"^Running Running$"),
    ("kubectl get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName", OK, r"NAME\s+NODE\nagent-api-\S+"
     r"\s+node-\d"),
    ("kubectl get pods --field-selector=status.phase=Running --no-headers | wc -l", OK, r"^2$"),
    ("timeout 2 kubectl get pods -w", 124, r"NAME\s+READY\s+STATUS[\s\S]*agent-api-\S+\s+1/1\s+Running"),
    ("kubectl get pod -l app=agent-api -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.podIP}"
     "{\"\\n\"}{end}'", OK, r"^agent-api-\S+\t10\.244\.\d+\.\d+\n$"),
    ("kubectl get deploy,rs,po -l app=agent-api", OK, r"deployment\.apps/agent-api\s+1/1[\s\S]*"
     r"replicaset\.apps/agent-api-\w+\s+1\s+1\s+1[\s\S]*pod/agent-api-"),
    ("kubectl get pods --sort-by=.metadata.name -o name", OK, r"^pod/agent-api-.*\npod/metrics-server-"),
    ("kubectl get deployments", OK, r"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nagent-api\s+1/1\s+1\s+1"),
    ("kubectl get deploy agent-api -o yaml", OK, r"apiVersion: apps/v1\nkind: Deployment\nmetadata:[\s\S]*"
     r"resourceVersion: \"\d+\"[\s\S]*image: agent-api:v1[\s\S]*status:\n  availableReplicas: 1"),
    ("kubectl get deployment agent-api -o jsonpath='{.spec.template.spec.containers[0].image}'", OK,
     r"^agent-api:v1$"),
    ("kubectl get rs", OK, r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nagent-api-\w+\s+1\s+1\s+1"),
    ("kubectl get all", OK, r"pod/agent-api-[\s\S]*service/agent-api\s+ClusterIP[\s\S]*deployment\.apps/agent-api"
     r"\s+1/1[\s\S]*replicaset\.apps/agent-api-"),
    ("kubectl get svc", OK, r"NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nagent-api\s+ClusterIP\s+"
     r"10\.96\.\d+\.\d+\s+<none>\s+80/TCP"),
    ("kubectl get endpoints agent-api", OK, r"agent-api\s+10\.244\.\d+\.\d+:8080"),
    ("kubectl get events", OK, r"LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n[\s\S]*Normal\s+Scheduled\s+"
     r"pod/agent-api-"),
    ("kubectl get events --sort-by=.lastTimestamp --field-selector type=Normal -o name", OK, r"^event/"),
    ("kubectl get hpa", OK, r"No resources found in default namespace\."),
    ("kubectl get configmaps,secrets", OK, r"No resources found in default namespace\."),
    ("kubectl get resourcequota", OK, r"compute-resources\s+\S+\s+pods: 2/24"),
    ("kubectl get deploy nope", FAIL, r'Error from server \(NotFound\): deployments\.apps "nope" not found'),
    ("kubectl get frobs", FAIL, r'error: the server doesn\'t have a resource type "frobs"'),
    ("kubectl describe deployment agent-api", OK, r"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available"
     r"[\s\S]*NewReplicaSet:\s+agent-api-\w+ \(1/1 replicas created\)"),
    ("kubectl describe pod {POD}", OK, r"Status:\s+Running[\s\S]*Controlled By:\s+ReplicaSet/agent-api-"
     r"[\s\S]*Events:[\s\S]*Scheduled"),
    ("kubectl describe svc agent-api", OK, r"Endpoints:\s+10\.244\.\d+\.\d+:8080"),
    ("kubectl top pods", OK, r"NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\nagent-api-\S+\s+\d+m\s+\d+Mi"),
    ("kubectl top pod --containers", OK, r"POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)"),
    ("kubectl logs deployment/agent-api", OK, r"INFO served \d+ req/s; service: [\d.]+ req/s demand"),
    ("kubectl logs {POD} --tail=1", OK, r"^\S+ INFO served "),
    ("kubectl logs -l app=agent-api", OK, r"p95 latency [\d.]+ ms"),
    ("kubectl explain deployment.spec.replicas", OK, r"KIND:\s+Deployment\nVERSION:\s+apps/v1\n\nFIELD:\s+replicas "
     r"<integer>\n\nDESCRIPTION:\n\s+Number of desired pods"),
    ("kubectl explain pods.spec.containers", OK, r"RESOURCE: containers <\[\]Object>[\s\S]*FIELDS:[\s\S]*image\s+"
     r"<string>"),
    ("kubectl auth can-i create deployments", OK, r"^yes$"),
    ("kubectl auth can-i delete nodes", FAIL, r"^no$"),
    ("kubectl rollout status deployment/agent-api", OK, r'deployment "agent-api" successfully rolled out'),
    ("kubectl rollout history deployment agent-api", OK, r"REVISION\s+CHANGE-CAUSE\n1\s+<none>"),
    # dry runs change nothing
    (f"sed 's/replicas: 1/replicas: 4/' {AGENT} > {SCALED} && kubectl apply -f {SCALED} --dry-run=client", OK,
     r"deployment\.apps/agent-api configured \(dry run\)"),
    (f"kubectl apply -f {SCALED} --dry-run=server", OK, r"deployment\.apps/agent-api configured \(server dry run\)"),
    ("kubectl scale deployment agent-api --replicas=6 --dry-run=server", OK, r"deployment\.apps/agent-api scaled"),
    ("kubectl create deployment web --image=nginx:1.25 --dry-run=client -o yaml", OK,
     r"kind: Deployment[\s\S]*image: nginx:1\.25"),
    ("kubectl get deploy agent-api -o jsonpath='{.spec.replicas}'; kubectl get deploy web", FAIL,
     r'^1Error from server \(NotFound\): deployments\.apps "web" not found'),
    (f"kubectl diff -f {SCALED}", 1, r"-  replicas: 1\n\+  replicas: 4"),
    # changes
    ("kubectl label deployment agent-api tier=api", OK, r"deployment\.apps/agent-api labeled"),
    ("kubectl annotate deployment agent-api owner=sre", OK, r"deployment\.apps/agent-api annotated"),
    ("kubectl patch deployment agent-api --type=merge -p '{\"metadata\":{\"labels\":{\"team\":\"ml\"}}}'", OK,
     r"deployment\.apps/agent-api patched"),
    ("kubectl get deploy agent-api --show-labels --no-headers", OK, r"app=agent-api,team=ml,tier=api"),
    ("kubectl set resources deployment agent-api --limits=cpu=1,memory=2Gi", OK,
     r"deployment\.apps/agent-api resource requirements updated"),
    ("kubectl get deploy agent-api -o jsonpath='{.spec.template.spec.containers[0].resources}'", OK,
     r'"limits":\{"cpu":"1","memory":"2Gi"\}.*"requests":\{"cpu":"500m","memory":"1024Mi"\}'),
    ("kubectl set env deployment/agent-api LOG_LEVEL=debug", OK, r"deployment\.apps/agent-api env updated"),
    ("KUBE_EDITOR=\"sed -i 's/replicas: 1/replicas: 2/'\" kubectl edit deployment agent-api", OK,
     r"deployment\.apps/agent-api edited"),
    ("kubectl rollout restart deployment agent-api", OK, r"deployment\.apps/agent-api restarted"),
    ("kubectl get pods -l app=agent-api --no-headers", OK, r"agent-api-\S+\s+0/1\s+ContainerCreating"),
    (f"kubectl apply -f {AGENT}", OK, r"deployment\.apps/agent-api configured"),
    (f"kubectl apply -f {AGENT}", OK, r"deployment\.apps/agent-api unchanged"),
    ("kubectl patch deployment agent-api --type=json -p '[{\"op\":\"replace\",\"path\":\"/spec/replicas\","
     "\"value\":2}]'", OK, r"deployment\.apps/agent-api patched"),
    ("kubectl scale deployment agent-api --replicas=3", OK, r"deployment\.apps/agent-api scaled"),
    ("kubectl get deploy agent-api --no-headers", OK, r"agent-api\s+0/3\s+3\s+0"),
    ("kubectl autoscale deployment agent-api --min=3 --max=6 --cpu-percent=80", OK,
     r"horizontalpodautoscaler\.autoscaling/agent-api autoscaled"),
    ("kubectl get hpa", OK, r"NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nagent-api\s+"
     r"Deployment/agent-api\s+<unknown>/80%\s+3\s+6"),
    ("kubectl create configmap app-config --from-literal=mode=fast", OK, r"configmap/app-config created"),
    ("kubectl get configmap app-config -o jsonpath='{.data.mode}'", OK, r"^fast$"),
    ("kubectl create secret generic app-secret --from-literal=token=abc", OK, r"secret/app-secret created"),
    ("kubectl get secret app-secret -o jsonpath='{.data.token}' | base64 -d", OK, r"^abc$"),
    ("kubectl create deployment web --image=nginx:1.25 --replicas=2", OK, r"deployment\.apps/web created"),
    ("kubectl expose deployment web --port=80 --target-port=8080", OK, r"service/web exposed"),
    ("kubectl get svc web -o jsonpath='{.spec.ports[0].targetPort}'", OK, r"^8080$"),
    ("kubectl run tmp --image=busybox:1.36 --restart=Never -- sleep 60", OK, r"pod/tmp created"),
    ("kubectl get pod tmp -o jsonpath='{.spec.containers[0].args}'", OK, r'\["sleep","60"\]'),
    ("kubectl delete pod tmp", OK, r'pod "tmp" deleted'),
    ("kubectl delete deployment,svc web", OK, r'deployment\.apps "web" deleted\nservice "web" deleted'),
    ("kubectl create deployment web --image=nginx:1.25 --dry-run=client -o yaml > /tmp/web.yaml && "
     "kubectl create -f /tmp/web.yaml", OK, r"deployment\.apps/web created"),
    ("sed -i 's/replicas: 1/replicas: 2/' /tmp/web.yaml && kubectl replace -f /tmp/web.yaml", OK,
     r"deployment\.apps/web replaced"),
    ("kubectl delete -f /tmp/web.yaml", OK, r'deployment\.apps "web" deleted'),
    ("kubectl create job hello --image=busybox:1.36 -- echo hi && kubectl get jobs", OK,
     r"job\.batch/hello created\nNAME\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+0/1"),
    ("kubectl delete job hello", OK, r'job\.batch "hello" deleted'),
    ("kubectl create deployment agent-api --image=agent-api:v1", FAIL,
     r'deployments\.apps "agent-api" already exists'),
    ("kubectl scale deployment agent-api", FAIL, r'Error: required flag\(s\) "replicas" not set'),
    ("kubectl apply -f /nonexistent.yaml", FAIL, r'error: the path "/nonexistent\.yaml" does not exist'),
    # forbidden by RBAC and the namespace's policy
    ("kubectl exec deploy/metrics-server -- sh", FAIL, r'Error from server \(Forbidden\): pods/exec ".*" is forbidden: '
     r'User "agent" cannot create resource "pods/exec"'),
    ("kubectl delete node node-1", FAIL, r'Error from server \(Forbidden\): nodes "node-1" is forbidden: User "agent" '
     r'cannot delete resource "nodes"'),
    ("kubectl port-forward deploy/metrics-server 8443:443", FAIL, r'error upgrading connection: pods/portforward '
     r'"metrics-server-\S+" is forbidden'),
    ("kubectl create namespace scratch", FAIL, r"Error from server \(Forbidden\)"),
    ("kubectl -n kube-system create configmap x --from-literal=a=b", FAIL, r"Error from server \(Forbidden\)"),
    ("kubectl frobnicate", FAIL, r'Error: unknown command "frobnicate" for "kubectl"'),
]
