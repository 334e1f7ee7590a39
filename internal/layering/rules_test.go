package layering

// The dependency rules of the module, as allow-lists. Patterns are import
// paths; "x/..." matches x and every package below it; Std matches the
// standard library and ThirdParty any package outside this module. Only
// non-test code counts.

const (
	m = "github.com/airlockhq/airlock/"
	// Std and ThirdParty are the two pattern keywords.
	Std        = "std"
	ThirdParty = "third-party"
)

// worker is what the AI worker binary may link: it must not even contain
// database, vault, token or orchestrator code (SPEC 1).
var worker = mayImport{
	why:    "the worker binary links only the standard library and the worker's own packages",
	from:   []string{m + "cmd/aiworker"},
	linked: true,
	may: []string{
		Std,
		m + "cmd/aiworker", m + "aiworker/...",
		m + "mcp/client", m + "mcp/tools", m + "sandbox", m + "internal/backoff", m + "internal/utf8cut",
		m + "secure/redact",  // shape detectors only: the worker knows no secret value
		m + "secure/confine", // seccomp and Landlock for the worker and its sandbox children
		// The third-party code of those packages.
		"github.com/mark3labs/mcp-go/...", "github.com/google/jsonschema-go/...", "github.com/google/uuid",
		"github.com/santhosh-tekuri/jsonschema/v6/...", "github.com/spf13/cast/...", "github.com/yosida95/uritemplate/v3",
		"golang.org/x/text/...", "go.starlark.net/...", "golang.org/x/sys/unix", "golang.org/x/net/bpf",
		"github.com/elastic/go-seccomp-bpf/...", "github.com/landlock-lsm/go-landlock/...",
		"kernel.org/pub/linux/libs/security/libcap/psx",
	},
	// The worker has no database. (database/sql/driver, interfaces only,
	// comes with github.com/google/uuid.)
	except: []string{"database/sql"},
}

// rules are every rule the module keeps.
var rules = []rule{
	worker,
	mayImport{
		why:  "secure/* are leaves: the standard library and their own library",
		from: []string{m + "secure/..."},
		may:  []string{Std, ThirdParty},
	},
	mayImport{
		why:  "sandbox is a leaf; it may confine its children with secure/confine",
		from: []string{m + "sandbox/..."},
		may:  []string{Std, ThirdParty, m + "secure/confine"},
	},
	mayImport{
		why:  "mcp/tools is the wire contract: pure types, standard library only",
		from: []string{m + "mcp/tools"},
		may:  []string{Std},
	},
	mayImport{
		why:  "internal/* are small helpers on the standard library (the worker links some)",
		from: []string{m + "internal/..."},
		may:  []string{Std},
	},
	mayImport{
		why:    "storage and the LLM gateway do not depend on the MCP wire contract: they have their own types",
		from:   []string{m + "orchestrator/store/...", m + "orchestrator/llm"},
		linked: true,
		may:    []string{Std, ThirdParty, m + "orchestrator/...", m + "secure/...", m + "internal/..."},
	},
	onlyImportedBy{
		why: "nothing imports the admin HTTP layer but the binaries",
		pkg: []string{m + "orchestrator/admin/..."},
		by:  []string{m + "cmd/..."},
	},
	onlyImportedBy{
		why: "services do not import Core (package orchestrator): only the binaries and the adapters that feed it messages",
		pkg: []string{m + "orchestrator"},
		by:  []string{m + "cmd/...", m + "orchestrator/admin/...", m + "orchestrator/discord/..."},
	},
}
