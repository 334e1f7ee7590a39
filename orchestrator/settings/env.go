package settings

import "github.com/airlockhq/airlock/orchestrator/config"

// LockedByEnv returns, for each setting that an environment variable sets
// (non-empty, as package config reads them), its dotted name mapped to the
// variable's name: the locked argument of New. The variables, and the keys
// they set, are package config's (config.EnvKeys): a setting and the
// configuration key it starts from have the same dotted name. getenv is
// os.Getenv in main.
func LockedByEnv(getenv func(string) string) map[string]string {
	locked := make(map[string]string)
	for env, key := range config.EnvKeys() {
		if fieldByKey(key) != nil && getenv(env) != "" {
			locked[key] = env
		}
	}
	return locked
}
