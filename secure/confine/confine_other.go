//go:build !linux

package confine

const notLinux = "confinement needs Linux (seccomp, Landlock): this process runs unconfined"

// Worker does nothing outside Linux; the Report says so.
func Worker(WorkerPaths) Report { return Report{Problems: []string{notLinux}} }

// Child does nothing outside Linux; the Report says so.
func Child() Report { return Report{Problems: []string{notLinux}} }

// Orchestrator does nothing outside Linux; the Report says so.
func Orchestrator(OrchestratorPaths) Report { return Report{Problems: []string{notLinux}} }
