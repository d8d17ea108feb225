{{/* Names. Suffixed names (-policies, -redis, -guard) keep within 63 characters. */}}
{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 54 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The pods of the chart's Deployment: the gateway alone (standalone) or the app with the gateway (sidecar). */}}
{{- define "gateway.component" -}}
{{- if eq .Values.mode "sidecar" }}app{{ else }}gateway{{ end -}}
{{- end -}}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "gateway.component" . }}
{{- end -}}

{{/* Whether the chart renders its Deployment: always standalone; in sidecar mode only with app containers. */}}
{{- define "gateway.hasDeployment" -}}
{{- if or (eq .Values.mode "standalone") .Values.sidecar.app.containers }}true{{ end -}}
{{- end -}}

{{- define "gateway.configDir" -}}/etc/moderation-gateway/config{{- end -}}

{{- define "gateway.policiesConfigMap" -}}
{{- .Values.policies.existingConfigMap.name | default (printf "%s-policies" (include "gateway.fullname" .)) -}}
{{- end -}}

{{/* The policy files' names, in load order, as a JSON list. */}}
{{- define "gateway.policyFiles" -}}
{{- if .Values.policies.existingConfigMap.name -}}
{{- .Values.policies.existingConfigMap.files | toJson -}}
{{- else if .Values.policies.files -}}
{{- keys .Values.policies.files | sortAlpha | toJson -}}
{{- else -}}
["default.yaml"]
{{- end -}}
{{- end -}}

{{/* Whether any guard engine is configured (the single one or named ones). */}}
{{- define "gateway.hasGuard" -}}
{{- if or (ne .Values.guard.engine "None") (dig "Guard" "Engines" (dict) .Values.config) }}true{{ end -}}
{{- end -}}

{{- define "gateway.guardServerAddress" -}}
{{- printf "http://%s-guard:%v/" (include "gateway.fullname" .) .Values.guardServer.port -}}
{{- end -}}

{{/* Cache:Redis when it is not secret: the bundled Redis or a plain external address. */}}
{{- define "gateway.redisAddress" -}}
{{- if .Values.redis.bundled -}}
{{- printf "%s-redis:6379" (include "gateway.fullname" .) -}}
{{- else -}}
{{- .Values.redis.external.address -}}
{{- end -}}
{{- end -}}

{{/* Refuses values that cannot work, each with what to change. */}}
{{- define "gateway.validate" -}}
{{- $v := .Values -}}
{{- if not (has $v.mode (list "standalone" "sidecar")) -}}
{{- fail (printf "mode must be standalone or sidecar, got %q" $v.mode) -}}
{{- end -}}
{{- if not (has $v.guard.engine (list "None" "Onnx" "OpenAi" "WorkersAi")) -}}
{{- fail (printf "guard.engine must be None, Onnx, OpenAi or WorkersAi, got %q" $v.guard.engine) -}}
{{- end -}}
{{- if and (eq $v.guard.engine "Onnx") (not $v.guard.model.volume) (not $v.guard.onnx.ModelDirectory) -}}
{{- fail "guard.engine Onnx needs the converted model: set guard.model.volume (e.g. persistentVolumeClaim: {claimName: ...})" -}}
{{- end -}}
{{- if $v.guardServer.enabled -}}
{{- if not $v.guardServer.model.volume -}}
{{- fail "guardServer.enabled needs the model's weights: set guardServer.model.volume" -}}
{{- end -}}
{{- if and (ne $v.guard.engine "OpenAi") (not (dig "Guard" "Engines" (dict) $v.config)) -}}
{{- fail "guardServer is reached through the OpenAi remote engine: set guard.engine OpenAi (or name it under config.Guard.Engines)" -}}
{{- end -}}
{{- end -}}
{{- if eq $v.auth.mode "ApiKeys" -}}
{{- if not $v.auth.keys -}}
{{- fail "auth.mode ApiKeys needs at least one entry in auth.keys" -}}
{{- end -}}
{{- range $i, $k := $v.auth.keys -}}
{{- if not (and $k.tenant $k.secret $k.secret.name $k.secret.key) -}}
{{- fail (printf "auth.keys[%d] needs tenant and secret.name and secret.key (the Secret key holding the SHA-256 hash)" $i) -}}
{{- end -}}
{{- end -}}
{{- else if ne $v.auth.mode "None" -}}
{{- fail (printf "auth.mode must be None or ApiKeys, got %q" $v.auth.mode) -}}
{{- end -}}
{{- if and $v.redis.bundled (or $v.redis.external.address $v.redis.external.secret.name) -}}
{{- fail "redis: set either bundled or external, not both" -}}
{{- end -}}
{{- if and $v.redis.external.address $v.redis.external.secret.name -}}
{{- fail "redis.external: set either address or secret, not both" -}}
{{- end -}}
{{- if and $v.policies.existingConfigMap.name (not $v.policies.existingConfigMap.files) -}}
{{- fail "policies.existingConfigMap.files must list the ConfigMap keys to load" -}}
{{- end -}}
{{- if and $v.policies.existingConfigMap.name $v.policies.files -}}
{{- fail "policies: set either files or existingConfigMap, not both" -}}
{{- end -}}
{{- end -}}

{{/*
The gateway's configuration file: the settings the chart derives from its values, with `config` merged over them.
Secrets are never in it; they arrive as environment variables (gateway.container).
*/}}
{{- define "gateway.appsettings" -}}
{{- $v := .Values -}}
{{- $root := . -}}
{{- $files := list -}}
{{- range (include "gateway.policyFiles" . | fromJsonArray) -}}
{{- $files = append $files (printf "%s/%s" $v.policies.mountPath .) -}}
{{- end -}}
{{- $guard := dict "Engine" $v.guard.engine -}}
{{- if eq $v.guard.engine "Onnx" -}}
{{- $_ := set $guard "Onnx" (merge (deepCopy $v.guard.onnx) (dict "ModelDirectory" $v.guard.model.mountPath)) -}}
{{- end -}}
{{- $remote := deepCopy $v.guard.remote -}}
{{- if and $v.guardServer.enabled (eq $v.guard.engine "OpenAi") -}}
{{- $remote = merge $remote (dict "BaseAddress" (include "gateway.guardServerAddress" $root) "Model" $v.guardServer.model.servedName) -}}
{{- end -}}
{{- if $remote -}}
{{- $_ := set $guard "Remote" $remote -}}
{{- end -}}
{{- $derived := dict "Guard" $guard "Policies" (dict "Files" $files "Watch" $v.policies.watch) -}}
{{- $telemetry := dict -}}
{{- if $v.metrics.enabled -}}
{{- $_ := set $telemetry "Prometheus" (dict "Enabled" true "Path" $v.metrics.path "Port" $v.metrics.port) -}}
{{- end -}}
{{- if $v.otlp.endpoint -}}
{{- $_ := set $telemetry "OtlpEndpoint" $v.otlp.endpoint -}}
{{- end -}}
{{- if $telemetry -}}
{{- $_ := set $derived "Telemetry" $telemetry -}}
{{- end -}}
{{- $keys := list -}}
{{- range $v.auth.keys -}}
{{- $keys = append $keys (dict "Tenant" .tenant "Name" (.name | default .tenant)) -}}
{{- end -}}
{{- $_ := set $derived "Auth" (dict "Mode" $v.auth.mode) -}}
{{- if and (eq $v.auth.mode "ApiKeys") $keys -}}
{{- $_ := set $derived.Auth "Keys" $keys -}}
{{- end -}}
{{- with include "gateway.redisAddress" . -}}
{{- $_ := set $derived "Cache" (dict "Redis" .) -}}
{{- end -}}
{{- mergeOverwrite $derived (deepCopy $v.config) | toPrettyJson -}}
{{- end -}}

{{/* The policy file the chart writes when policies.files and existingConfigMap are empty. */}}
{{- define "gateway.defaultPolicy" -}}
{{- $check := include "gateway.hasGuard" . | eq "true" -}}
# Written by the chart because policies.files is empty. Every category of the default guard engine's taxonomy
# blocks, in prompts and in responses, and a check that gives no usable verdict refuses the request.
{{- if not $check }}
# No guard engine is configured (guard.engine None), so nothing is checked: traffic passes unmoderated.
{{- end }}
policies:
  - name: default
    description: Block every category; fail closed.
    prompt:
      check: {{ $check }}
      defaultAction: block
      unknownCategoryAction: block
      failMode: closed
    response:
      check: {{ $check }}
      defaultAction: block
      unknownCategoryAction: block
      failMode: closed
{{- end -}}

{{/* The gateway container: the same in the standalone Deployment and in an app's pod (sidecar mode). */}}
{{- define "gateway.container" -}}
{{- $v := .Values -}}
- name: gateway
  image: "{{ $v.image.repository }}:{{ $v.image.tag }}"
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args: ["serve", "--config", "{{ include "gateway.configDir" . }}/appsettings.Production.json"]
  ports:
    - name: gw-http
      containerPort: {{ $v.port }}
    {{- if $v.metrics.enabled }}
    - name: gw-metrics
      containerPort: {{ $v.metrics.port }}
    {{- end }}
  env:
    # Listens on the pod's addresses (the kubelet's probes come from outside the pod); metrics on their own port.
    - name: Urls
      value: "http://0.0.0.0:{{ $v.port }}{{ if $v.metrics.enabled }};http://0.0.0.0:{{ $v.metrics.port }}{{ end }}"
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: OTEL_RESOURCE_ATTRIBUTES
      value: "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)"
    {{- range $name, $ref := $v.secrets.env }}
    - name: {{ $name }}
      valueFrom:
        secretKeyRef:
          name: {{ required (printf "secrets.env.%s.name" $name) $ref.name }}
          key: {{ required (printf "secrets.env.%s.key" $name) $ref.key }}
    {{- end }}
    {{- if eq $v.auth.mode "ApiKeys" }}
    {{- range $i, $k := $v.auth.keys }}
    # The SHA-256 hash of {{ $k.tenant }}'s key (Auth:Keys:{{ $i }}:Sha256).
    - name: Auth__Keys__{{ $i }}__Sha256
      valueFrom:
        secretKeyRef:
          name: {{ $k.secret.name }}
          key: {{ $k.secret.key }}
    {{- end }}
    {{- end }}
    {{- if $v.redis.external.secret.name }}
    - name: Cache__Redis
      valueFrom:
        secretKeyRef:
          name: {{ $v.redis.external.secret.name }}
          key: {{ required "redis.external.secret.key" $v.redis.external.secret.key }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or $v.secrets.create $v.secrets.existingSecrets }}
  envFrom:
    {{- if $v.secrets.create }}
    - secretRef:
        name: {{ include "gateway.fullname" . }}
    {{- end }}
    {{- range $v.secrets.existingSecrets }}
    - secretRef:
        name: {{ . }}
    {{- end }}
  {{- end }}
  startupProbe:
    httpGet:
      path: /healthz
      port: gw-http
    periodSeconds: {{ $v.probes.startup.periodSeconds }}
    timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
    failureThreshold: {{ $v.probes.startup.failureThreshold }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: gw-http
    periodSeconds: {{ $v.probes.liveness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.liveness.failureThreshold }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: gw-http
    periodSeconds: {{ $v.probes.readiness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.readiness.failureThreshold }}
  {{- $resources := deepCopy $v.resources }}
  {{- if $v.gpu.enabled }}
  {{- $_ := set $resources "limits" (merge (dict $v.gpu.resourceName $v.gpu.count) ($resources.limits | default dict)) }}
  {{- end }}
  resources:
    {{- toYaml $resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    - name: gateway-config
      mountPath: {{ include "gateway.configDir" . }}
      readOnly: true
    # The whole directory, never a subPath: the kubelet updates only directory mounts of a ConfigMap.
    - name: gateway-policies
      mountPath: {{ $v.policies.mountPath }}
      readOnly: true
    - name: gateway-tmp
      mountPath: /tmp
    {{- if $v.guard.model.volume }}
    - name: gateway-model
      mountPath: {{ $v.guard.model.mountPath }}
      {{- with $v.guard.model.subPath }}
      subPath: {{ . }}
      {{- end }}
      readOnly: true
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The pod volumes the gateway container mounts. */}}
{{- define "gateway.volumes" -}}
{{- $v := .Values -}}
- name: gateway-config
  configMap:
    name: {{ include "gateway.fullname" . }}
- name: gateway-policies
  configMap:
    name: {{ include "gateway.policiesConfigMap" . }}
- name: gateway-tmp
  emptyDir: {}
{{- with $v.guard.model.volume }}
- name: gateway-model
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}
