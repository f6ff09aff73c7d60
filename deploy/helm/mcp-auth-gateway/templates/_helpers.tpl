{{/* Names and labels. */}}
{{- define "mcp-auth-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-auth-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "mcp-auth-gateway.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "mcp-auth-gateway.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mcp-auth-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-auth-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-auth-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "mcp-auth-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{- define "mcp-auth-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-auth-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the pieces live in the gateway container. */}}
{{- define "mcp-auth-gateway.configDir" -}}/etc/mcp-auth-gateway/config{{- end }}
{{- define "mcp-auth-gateway.policiesDir" -}}/etc/mcp-auth-gateway/policies{{- end }}
{{- define "mcp-auth-gateway.secretsDir" -}}/var/run/secrets/mcp-auth-gateway{{- end }}

{{- define "mcp-auth-gateway.validate" -}}
{{- if not (has .Values.mode (list "standalone" "sidecar")) }}
{{- fail (printf "mode must be standalone or sidecar, not %q" .Values.mode) }}
{{- end }}
{{- if and (eq .Values.mode "sidecar") (not .Values.sidecar.container.name) }}
{{- fail "mode sidecar needs sidecar.container (the MCP server's container, with a name and an image)" }}
{{- end }}
{{- if and (eq .Values.mode "standalone") (not .Values.upstream.url) }}
{{- fail "mode standalone needs upstream.url (the MCP server's URL)" }}
{{- end }}
{{- if and .Values.upstream.credential.value .Values.upstream.credential.existingSecret }}
{{- fail "set upstream.credential.value or upstream.credential.existingSecret, not both" }}
{{- end }}
{{- if eq (int .Values.adminPort) (int .Values.containerPort) }}
{{- fail "adminPort must differ from containerPort" }}
{{- end }}
{{- with .Values.sessions.bindingSecret }}
{{- if and .value .existingSecret }}
{{- fail "set sessions.bindingSecret.value or sessions.bindingSecret.existingSecret, not both" }}
{{- end }}
{{- if and .previousValues (not .value) }}
{{- fail "sessions.bindingSecret.previousValues needs sessions.bindingSecret.value (the key that signs)" }}
{{- end }}
{{- if and .existingSecretPreviousKeys (not .existingSecret) }}
{{- fail "sessions.bindingSecret.existingSecretPreviousKeys needs sessions.bindingSecret.existingSecret" }}
{{- end }}
{{- end }}
{{- $files := list }}
{{- if include "mcp-auth-gateway.credentialSecret" . }}
{{- $files = append $files .Values.upstream.credential.existingSecretKey }}
{{- end }}
{{- $files = concat $files (include "mcp-auth-gateway.bindingSecretKeys" . | fromJsonArray) }}
{{- if ne (len $files) (len (uniq $files)) }}
{{- fail (printf "the files of %s must have distinct names: upstream.credential.existingSecretKey and sessions.bindingSecret keys are %s" (include "mcp-auth-gateway.secretsDir" .) (join ", " $files)) }}
{{- end }}
{{- end }}

{{/* The policy files: the user's `policies`, or the chart's baseline. */}}
{{- define "mcp-auth-gateway.policyFiles" -}}
{{- if .Values.policies }}
{{- range $file, $content := .Values.policies }}
{{ $file }}: |
  {{- (kindIs "string" $content | ternary $content (toYaml $content)) | nindent 2 }}
{{- end }}
{{- else }}
{{- range $path, $_ := .Files.Glob "files/policies/*.yaml" }}
{{ base $path }}: |
  {{- $.Files.Get $path | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Secret that holds the upstream credential, if any. */}}
{{- define "mcp-auth-gateway.credentialSecret" -}}
{{- if .Values.upstream.credential.existingSecret }}
{{- .Values.upstream.credential.existingSecret }}
{{- else if .Values.upstream.credential.value }}
{{- printf "%s-credentials" (include "mcp-auth-gateway.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Secret that holds the session binding keys, if any (the chart's own is shared with the credential). */}}
{{- define "mcp-auth-gateway.bindingSecret" -}}
{{- if .Values.sessions.bindingSecret.existingSecret }}
{{- .Values.sessions.bindingSecret.existingSecret }}
{{- else if .Values.sessions.bindingSecret.value }}
{{- printf "%s-credentials" (include "mcp-auth-gateway.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The keys of that Secret, as a JSON array, the one that signs first: existingSecretKey,
then existingSecretPreviousKeys, or <existingSecretKey>-previous-<n> for previousValues.
Each is mounted as a file of the same name in secretsDir.
*/}}
{{- define "mcp-auth-gateway.bindingSecretKeys" -}}
{{- $keys := list }}
{{- with .Values.sessions.bindingSecret }}
{{- if .existingSecret }}
{{- $keys = prepend .existingSecretPreviousKeys .existingSecretKey }}
{{- else if .value }}
{{- $keys = list .existingSecretKey }}
{{- range $index, $_ := .previousValues }}
{{- $keys = append $keys (printf "%s-previous-%d" $.Values.sessions.bindingSecret.existingSecretKey (add1 $index)) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $keys }}
{{- end }}

{{/*
The gateway's Secret volume: the projected keys of the credential Secret and of the
session binding Secret (one Secret or two), as files of one directory, secretsDir.
Listing the keys makes a missing one stop the pod at start-up rather than the gateway.
*/}}
{{- define "mcp-auth-gateway.secretSources" -}}
{{- with include "mcp-auth-gateway.credentialSecret" . }}
- secret:
    name: {{ . }}
    items:
      - key: {{ $.Values.upstream.credential.existingSecretKey | quote }}
        path: {{ $.Values.upstream.credential.existingSecretKey | quote }}
{{- end }}
{{- with include "mcp-auth-gateway.bindingSecret" . }}
- secret:
    name: {{ . }}
    items:
      {{- range include "mcp-auth-gateway.bindingSecretKeys" $ | fromJsonArray }}
      - key: {{ . | quote }}
        path: {{ . | quote }}
      {{- end }}
{{- end }}
{{- end }}

{{/*
The gateway config: the user's `config`, with listen, metrics.port/host (the admin
port), upstream.url, upstream.credential, sessions.bindingSecrets and policy.directory
filled in from the chart's values.
*/}}
{{- define "mcp-auth-gateway.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $listen := merge (dict "host" "0.0.0.0" "port" (int .Values.containerPort)) (default dict $config.listen) }}
{{- $_ := set $config "listen" $listen }}
{{- $metrics := merge (dict "host" "0.0.0.0" "port" (int .Values.adminPort)) (default dict $config.metrics) }}
{{- $_ := set $config "metrics" $metrics }}
{{- $upstream := omit (default dict $config.upstream) "url" "credential" }}
{{- if eq .Values.mode "sidecar" }}
{{- $_ := set $upstream "url" (printf "http://127.0.0.1:%d%s" (int .Values.upstream.port) .Values.upstream.path) }}
{{- else }}
{{- $_ := set $upstream "url" .Values.upstream.url }}
{{- end }}
{{- if include "mcp-auth-gateway.credentialSecret" . }}
{{- $path := printf "%s/%s" (include "mcp-auth-gateway.secretsDir" .) .Values.upstream.credential.existingSecretKey }}
{{- $_ := set $upstream "credential" (dict "header" .Values.upstream.credential.header "value" (printf "${file:%s}" $path)) }}
{{- end }}
{{- $_ := set $config "upstream" $upstream }}
{{- if include "mcp-auth-gateway.bindingSecret" . }}
{{- $references := list }}
{{- range include "mcp-auth-gateway.bindingSecretKeys" . | fromJsonArray }}
{{- $references = append $references (printf "${file:%s/%s}" (include "mcp-auth-gateway.secretsDir" $) .) }}
{{- end }}
{{- $_ := set $config "sessions" (merge (dict "bindingSecrets" $references) (default dict $config.sessions)) }}
{{- end }}
{{- if .Values.policy.enabled }}
{{- $_ := set $config "policy" (merge (dict "directory" (include "mcp-auth-gateway.policiesDir" .)) (default dict $config.policy)) }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* The gateway container. */}}
{{- define "mcp-auth-gateway.gatewayContainer" -}}
- name: gateway
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["serve"]
  env:
    - name: MCP_GATEWAY_CONFIG
      value: {{ include "mcp-auth-gateway.configDir" . }}/gateway.yaml
  ports:
    - name: http
      containerPort: {{ .Values.containerPort }}
      protocol: TCP
    - name: admin
      containerPort: {{ .Values.adminPort }}
      protocol: TCP
  # On the admin port: with metrics.port set, the MCP port does not serve them.
  readinessProbe:
    httpGet:
      path: /readyz
      port: admin
    {{- toYaml .Values.readinessProbe | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: admin
    {{- toYaml .Values.livenessProbe | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  volumeMounts:
    # Directories, never subPath: subPath mounts miss ConfigMap updates.
    - name: gateway-config
      mountPath: {{ include "mcp-auth-gateway.configDir" . }}
      readOnly: true
    - name: gateway-policies
      mountPath: {{ include "mcp-auth-gateway.policiesDir" . }}
      readOnly: true
    {{- if include "mcp-auth-gateway.secretSources" . }}
    - name: gateway-credentials
      mountPath: {{ include "mcp-auth-gateway.secretsDir" . }}
      readOnly: true
    {{- end }}
    - name: gateway-tmp
      mountPath: /tmp
{{- end }}

{{/* The MCP server container in sidecar mode: the user's spec plus hardened defaults. */}}
{{- define "mcp-auth-gateway.sidecarContainer" -}}
{{- $defaults := dict
  "securityContext" .Values.sidecar.securityContext
  "resources" .Values.sidecar.resources
  "lifecycle" (dict "preStop" (dict "sleep" (dict "seconds" (int .Values.sidecar.preStopSleepSeconds))))
}}
{{- $container := merge (deepCopy .Values.sidecar.container) $defaults }}
{{- list $container | toYaml }}
{{- end }}
