"""automation-service's flows, one module each: functions taking a unit of work and the narrow ports they use
(the run queue, the browser, gpt-service, the artifacts store), raising servicekit.domain_errors only."""
