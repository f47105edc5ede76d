{{/* The chart name (app.kubernetes.io/name). */}}
{{- define "slipstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The object-name prefix: <release>-slipstream, or the release name when it already says slipstream. */}}
{{- define "slipstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "slipstream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels shared by every object of the release. */}}
{{- define "slipstream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slipstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "slipstream.labels" -}}
helm.sh/chart: {{ include "slipstream.chart" . }}
{{ include "slipstream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: slipstream
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "slipstream.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* ZooKeeper connect string: the release's ensemble or the external one. */}}
{{- define "slipstream.zookeeper.connect" -}}
{{- if .Values.zookeeper.enabled -}}
{{ include "slipstream.fullname" . }}-zookeeper:{{ .Values.zookeeper.clientPort }}
{{- else -}}
{{ required "zookeeper.external is required when zookeeper.enabled is false (a connect string host:port[,host:port...])" .Values.zookeeper.external }}
{{- end -}}
{{- end }}

{{/* The fleet policy as the controller reads it: values.policy plus values.compression. */}}
{{- define "slipstream.policy.json" -}}
{{- $policy := deepCopy .Values.policy }}
{{- $_ := set $policy "compression" .Values.compression }}
{{- toPrettyJson $policy }}
{{- end }}

{{/* The controller configuration file (the autoscaler's "scaling" section, passed through). */}}
{{- define "slipstream.controller.json" -}}
{{- toPrettyJson (dict "scaling" .Values.scaling) }}
{{- end }}

{{/* Container security context: non-root, read-only root, no privilege escalation, no capabilities
     (besides the ones a role is given), RuntimeDefault seccomp. Argument: a list of capabilities to add. */}}
{{- define "slipstream.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
  {{- with . }}
  add:
    {{- toYaml . | nindent 4 }}
  {{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod security context. */}}
{{- define "slipstream.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The HorizontalPodAutoscaler API version the cluster has (autoscaling/v2 is GA from Kubernetes 1.23). */}}
{{- define "slipstream.hpa.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "autoscaling/v2") (semverCompare ">=1.23-0" .Capabilities.KubeVersion.Version) -}}
autoscaling/v2
{{- else -}}
autoscaling/v2beta2
{{- end -}}
{{- end }}

{{/* The PodDisruptionBudget API version the cluster has (policy/v1 from Kubernetes 1.21). */}}
{{- define "slipstream.pdb.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "policy/v1") (semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end }}

{{/* Checksum of the worker configuration (pods roll when it changes). */}}
{{- define "slipstream.worker.checksum" -}}
{{- include (print $.Template.BasePath "/worker-configmap.yaml") . | sha256sum }}
{{- end }}

{{/* Checksum of the controller configuration (policy and scaling). */}}
{{- define "slipstream.controller.checksum" -}}
{{- include (print $.Template.BasePath "/controller-configmap.yaml") . | sha256sum }}
{{- end }}

{{/* Checksum of the ZooKeeper configuration. */}}
{{- define "slipstream.zookeeper.checksum" -}}
{{- include (print $.Template.BasePath "/zookeeper-configmap.yaml") . | sha256sum }}
{{- end }}

{{/* Fails when values that cannot go together are given. */}}
{{- define "slipstream.validate" -}}
{{- if and .Values.hpa.enabled .Values.scaling (default false .Values.scaling.enabled) }}
{{- fail "hpa.enabled and scaling.enabled are both true: choose the HorizontalPodAutoscaler or the controller's autoscaler, not both" }}
{{- end }}
{{- if and .Values.onos.enabled .Values.scaling (default false .Values.scaling.enabled) }}
{{- fail "scaling.enabled needs the standalone controller (onos.enabled is true): configure autoscaling in the ONOS app" }}
{{- end }}
{{- $names := dict }}
{{- range .Values.sites }}
{{- if hasKey $names .name }}
{{- fail (printf "sites: site %q is listed twice (expected: each site once)" .name) }}
{{- end }}
{{- $_ := set $names .name true }}
{{- end }}
{{- if and .Values.zookeeper.enabled (eq (mod (int .Values.zookeeper.replicas) 2) 0) }}
{{- fail (printf "zookeeper.replicas: %d (expected: an odd number, 1, 3 or 5)" (int .Values.zookeeper.replicas)) }}
{{- end }}
{{- end }}

{{/*
ZooKeeper digest credentials (issue 10): the Secret holding zk-auth.properties, or "" when auth is off.
*/}}
{{- define "slipstream.zookeeper.authSecret" -}}
{{- if .Values.zookeeper.auth.enabled -}}
{{- .Values.zookeeper.auth.existingSecret | default (printf "%s-zookeeper-auth" (include "slipstream.fullname" .)) -}}
{{- end -}}
{{- end }}

{{/*
Mutual TLS (docs/security.md): the process arguments, and the per-pod certificate volume from cert-manager's
CSI driver (tls.crt, tls.key in PKCS#8, ca.crt), its URI SAN naming the pod. Call with (list $root "<uri>").
*/}}
{{- define "slipstream.tlsArgs" -}}
{{- if .Values.tls.enabled }}
- --tls-dir=/var/run/slipstream/tls
- --tls-reload-ms={{ .Values.tls.reloadMs }}
{{- else }}
- --insecure-plaintext
{{- end }}
{{- end }}

{{- define "slipstream.tlsVolume" -}}
{{- $root := index . 0 -}}
{{- $uri := index . 1 -}}
- name: tls
  csi:
    driver: csi.cert-manager.io
    readOnly: true
    volumeAttributes:
      csi.cert-manager.io/issuer-name: {{ $root.Values.tls.certManager.issuerName | quote }}
      csi.cert-manager.io/issuer-kind: {{ $root.Values.tls.certManager.issuerKind | quote }}
      csi.cert-manager.io/issuer-group: {{ $root.Values.tls.certManager.issuerGroup | quote }}
      csi.cert-manager.io/common-name: "${POD_NAME}"
      csi.cert-manager.io/uri-sans: {{ $uri | quote }}
      csi.cert-manager.io/duration: {{ $root.Values.tls.certManager.duration | quote }}
      csi.cert-manager.io/key-encoding: PKCS8
{{- end }}
