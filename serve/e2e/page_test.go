package e2e

import (
	"testing"
)

func TestLoad(t *testing.T) {
	tb := newTab(t)
	tb.open()
	tb.screenshot("01-start")
	if got := eval[string](tb, `document.getElementById("demo").disabled ? "disabled" : "enabled"`); got != "enabled" {
		t.Errorf("demo button %s", got)
	}
	tb.checkRequests()
	t.Logf("requests: %+v", tb.requests)
}
