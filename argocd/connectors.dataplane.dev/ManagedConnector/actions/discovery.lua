-- Argo CD resource actions for connectors.dataplane.dev/ManagedConnector.
-- restart asks the operator for one restart of the connector and its failed tasks (the
-- connectors.dataplane.dev/restart annotation); suspend and resume set spec.suspend. Under an
-- Application with self-heal, spec.suspend set here is put back to what Git says at the next sync.
local actions = {}
local suspended = obj.spec ~= nil and obj.spec.suspend == true
actions["restart"] = {["disabled"] = suspended, ["displayName"] = "Restart connector"}
actions["suspend"] = {["disabled"] = suspended, ["displayName"] = "Suspend polling"}
actions["resume"] = {["disabled"] = not suspended, ["displayName"] = "Resume polling"}
return actions
