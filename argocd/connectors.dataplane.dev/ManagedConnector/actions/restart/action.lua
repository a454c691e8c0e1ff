-- One restart per new value of connectors.dataplane.dev/restart: a number one above the current
-- value (kubectl users write "$(date +%s)"), so every run of the action is a new request and its
-- result does not depend on the clock.
local key = "connectors.dataplane.dev/restart"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local current = tonumber(obj.metadata.annotations[key])
if current == nil then
  obj.metadata.annotations[key] = "1"
else
  obj.metadata.annotations[key] = tostring(current + 1)
end
return obj
