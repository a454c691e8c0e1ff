-- Argo CD health check for connectors.dataplane.dev/ManagedConnector.
-- Uses no Lua standard library (no string, table or base functions), so it runs as a
-- user-supplied script without resource.customizations.useOpenLibs.
local hs = { status = "Progressing", message = "Waiting for the operator to report the connector's status" }

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for i = 1, #conditions do
    local c = conditions[i]
    if c ~= nil and c.type == kind then
      return c
    end
  end
  return nil
end

local function text(value)
  if value == nil then
    return ""
  end
  return value
end

-- "Degraded (1/2 tasks running); failed tasks: 1; Connector x Task 1 is in failed state. Connection refused"
local function summary(status)
  local message = text(status.holisticState)
  if status.tasksReady ~= nil then
    message = message .. " (" .. status.tasksReady .. " tasks running)"
  end
  local failed = ""
  if status.tasks ~= nil then
    for i = 1, #status.tasks do
      local task = status.tasks[i]
      if task.state == "FAILED" then
        if failed == "" then
          failed = "" .. task.id
        else
          failed = failed .. ", " .. task.id
        end
      end
    end
  end
  if failed ~= "" then
    message = message .. "; failed tasks: " .. failed
  end
  if status.errors ~= nil and #status.errors > 0 then
    -- The most specific error: the first failed task's, else the connector's.
    local chosen = status.errors[1]
    for i = 1, #status.errors do
      if status.errors[i].title ~= nil and status.errors[i].type == "Error" and i > 1 then
        chosen = status.errors[i]
        break
      end
    end
    message = message .. "; " .. text(chosen.title) .. " " .. text(chosen.content)
  end
  return message
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  -- Held by the operator's finalizer (deletionPolicy: Delete) until the connector is deleted.
  hs.message = "Deleting: waiting for the operator to delete the connector"
  if obj.status ~= nil then
    local synced = condition(obj.status.conditions, "Synced")
    if synced ~= nil and synced.reason == "DeleteFailed" then
      hs.message = "DeleteFailed: " .. text(synced.message)
    end
  end
  return hs
end

if obj.status == nil then
  return hs
end
local status = obj.status
-- Not reported on yet: the CRD's default status (observedGeneration 0) and no conditions.
if status.conditions == nil then
  return hs
end

if obj.metadata ~= nil and obj.metadata.generation ~= nil and status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local ready = condition(status.conditions, "Ready")
local stalled = condition(status.conditions, "Stalled")
local reconciling = condition(status.conditions, "Reconciling")
local synced = condition(status.conditions, "Synced")
if ready == nil then
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Polling suspended (spec.suspend)"
  if status.holisticState ~= nil then
    hs.message = hs.message .. "; last known state: " .. status.holisticState
  end
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  if stalled.reason == status.holisticState then
    hs.message = summary(status)
    if synced ~= nil and synced.status == "False" then
      hs.message = hs.message .. " (last probe failed: " .. text(synced.reason) .. ")"
    end
  else
    hs.message = text(stalled.reason) .. ": " .. text(stalled.message)
  end
  return hs
end

if status.holisticState == "Paused" or status.holisticState == "Stopped" then
  hs.status = "Suspended"
  hs.message = summary(status)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = summary(status)
  return hs
end

hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" and reconciling.reason == status.holisticState then
  hs.message = summary(status)
else
  hs.message = text(ready.reason) .. ": " .. text(ready.message)
end
if synced ~= nil and synced.status == "False" and (stalled == nil or stalled.status ~= "True") then
  hs.message = hs.message .. " (last probe failed: " .. text(synced.reason) .. ")"
end
return hs
