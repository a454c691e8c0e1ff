{{- define "mco.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mco.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The namespace of everything namespaced the chart creates (namespaceOverride, else the release's). */}}
{{- define "mco.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "mco.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "mco.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "mco.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mco.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mco.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mco.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator-wide credentials Secret, if any. */}}
{{- define "mco.credentialsSecret" -}}
{{- if .Values.credentials.create -}}
{{- printf "%s-credentials" (include "mco.fullname" .) -}}
{{- else -}}
{{- .Values.credentials.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* Rules on ManagedConnectors, Secrets and Events for one scope. */}}
{{- define "mco.watchRules" -}}
# patch: only the finalizer of resources with deletionPolicy: Delete.
- apiGroups: ["connectors.dataplane.dev"]
  resources: ["managedconnectors"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["connectors.dataplane.dev"]
  resources: ["managedconnectors/status"]
  verbs: ["patch"]
- apiGroups: ["connectors.dataplane.dev"]
  resources: ["managedconnectors/finalizers"]
  verbs: ["update"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# CA certificates of spec.kafkaConnect.ca.configMapKeyRef; the offsets ConfigMap an offsets
# request lists to (create/patch only of one the resource owns) or alters from.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "patch"]
{{- end -}}
