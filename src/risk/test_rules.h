// Rules shared by the risk tests and the risk fuzz targets (no GoogleTest here, so fuzz/ can
// include it): one feature of each kind and a list.
#pragma once

namespace tpw::risk::test {

inline constexpr const char* kVelocityRules = R"(
version = "velocity-1"
[thresholds]
step_up = 30
review = 60
decline = 100
[lists.blocked_devices]
kind = "device"
role = "deny"
items = []
[[rule]]
name = "blocked"
condition = "device in blocked_devices"
action = "block"
[[rule]]
name = "burst"
condition = "count(account, 1h) >= 3"
weight = 30
[[rule]]
name = "spend"
condition = "sum(account, 24h) + amount > 500.00 EUR"
weight = 40
[[rule]]
name = "many_merchants"
condition = "distinct(merchant, device, 1h) >= 4"
weight = 40
[[rule]]
name = "terminal_burst"
condition = "count(terminal, 10m) >= 20"
weight = 100
)";

}  // namespace tpw::risk::test
