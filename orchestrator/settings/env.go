package settings

// envFields maps the environment variables of package config that set a
// setting to the setting's dotted name. It must follow config's envVars;
// a test checks the names exist there.
var envFields = []struct{ env, key string }{
	{"AIRLOCK_LLM_PROVIDER", "llm.provider"},
	{"AIRLOCK_LLM_BASE_URL", "llm.base_url"},
	{"AIRLOCK_LLM_MODEL", "llm.model"},
	{"AIRLOCK_LLM_REQUESTS_PER_DAY", "llm.requests_per_day"},
	{"AIRLOCK_LLM_TOKENS_PER_DAY", "llm.tokens_per_day"},
	{"AIRLOCK_AGENT_MAX_ROUNDS", "agent.max_rounds"},
	{"AIRLOCK_AGENT_TASK_TIMEOUT", "agent.task_timeout"},
	{"AIRLOCK_EGRESS_ALLOW", "egress_allow"},
}

// LockedByEnv returns, for each setting that an environment variable sets
// (non-empty, as package config reads them), its dotted name mapped to the
// variable's name: the locked argument of New. getenv is os.Getenv in main.
func LockedByEnv(getenv func(string) string) map[string]string {
	locked := make(map[string]string)
	for _, e := range envFields {
		if getenv(e.env) != "" {
			locked[e.key] = e.env
		}
	}
	return locked
}
