package approval

import (
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// The store keeps its own row types, so a change to the MCP contract cannot
// change what is on disk; these functions map between the two at this
// boundary. The field sets are the same, so each is a plain conversion.

func storeGrants(g tools.Grants) store.Grants { return store.Grants(g) }

func wireGrants(g store.Grants) tools.Grants { return tools.Grants(g) }

// storeFindings and wireFindings keep a nil list nil and an empty one
// empty.
func storeFindings(fs []tools.Finding) []store.Finding {
	if fs == nil {
		return nil
	}
	out := make([]store.Finding, len(fs))
	for i, f := range fs {
		out[i] = store.Finding(f)
	}
	return out
}

func wireFindings(fs []store.Finding) []tools.Finding {
	if fs == nil {
		return nil
	}
	out := make([]tools.Finding, len(fs))
	for i, f := range fs {
		out[i] = tools.Finding(f)
	}
	return out
}
