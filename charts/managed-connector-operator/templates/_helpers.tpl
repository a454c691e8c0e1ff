{{- define "mco.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mco.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mco.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "mco.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
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
# CA certificates of spec.kafkaConnect.ca.configMapKeyRef.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
{{- end -}}
