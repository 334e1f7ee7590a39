package approval

import (
	"context"
	"testing"
)

func TestOnRevokedHook(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res := e.mustPropose(t, "weather", weather("v1"))
	if err := e.svc.Approve(ctx, "weather", res.SHA256, "admin:a"); err != nil {
		t.Fatal(err)
	}
	var got []string
	e.svc.OnRevoked(func(name string) { got = append(got, name) })
	if err := e.svc.Revoke(ctx, "nosuch", "admin:a", ""); err == nil {
		t.Fatal("revoking an unknown script succeeded")
	}
	if err := e.svc.Revoke(ctx, "weather", "admin:a", "stop"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "weather" {
		t.Errorf("OnRevoked hooks got %v, want [weather] (not the failed revocation)", got)
	}
}
