package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/weights"
	"sscscore/wasm/internal/protocol"
)

// TestUseWeights swaps the cascade for a weights folder's networks: a good
// folder is used (ready with a model card naming it, then done), one with
// a changed byte is refused with the reason and the cascade stays.
func TestUseWeights(t *testing.T) {
	def, err := cascade.Default()
	if err != nil {
		t.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	lv, sc := weights.Levels(), weights.Scores()
	files := map[string][]byte{"levels.json": lv.Spec, "levels.safetensors": lv.Weights, "scores.json": sc.Spec, "scores.safetensors": sc.Weights}
	var sums strings.Builder
	for n, b := range files {
		s := sha256.Sum256(b)
		sums.WriteString(hex.EncodeToString(s[:]) + "  " + n + "\n")
	}
	files[cascade.SumsFile] = []byte(sums.String())
	bad := map[string][]byte{}
	for n, b := range files {
		bad[n] = b
	}
	changed := append([]byte(nil), sc.Weights...)
	changed[200] ^= 1
	bad["scores.safetensors"] = changed
	tests := []struct {
		name  string
		files map[string][]byte
		want  []string // kinds of the events
		card  string   // in the model card after
	}{
		{"refused", bad, []string{protocol.Error}, ""},
		{"used", files, []string{protocol.Ready, protocol.Done}, "loaded in this page (not the shipped ones)"},
	}
	e := New(Options{Cascade: def})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []*protocol.Msg
			e.UseWeights(3, tc.files, func(m *protocol.Msg, _ []byte) { got = append(got, m) })
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events, want %v", len(got), tc.want)
			}
			for i, m := range got {
				if m.Kind != tc.want[i] {
					t.Errorf("event %d: got %q, want %q", i, m.Kind, tc.want[i])
				}
			}
			if got[0].Kind == protocol.Error && (got[0].Task != protocol.UseWeights || !strings.Contains(got[0].Error, "scores.safetensors has SHA-256")) {
				t.Errorf("refusal: got task %q, %q; want task weights naming scores.safetensors", got[0].Task, got[0].Error)
			}
			card := strings.Join(func() []string {
				var s []string
				for _, f := range e.Ready().Model.Fields {
					s = append(s, f[0]+": "+f[1])
				}
				return s
			}(), "; ")
			if tc.card == "" && strings.Contains(card, "Weights: ") || tc.card != "" && !strings.Contains(card, tc.card) {
				t.Errorf("model card: got %q, want weights %q", card, tc.card)
			}
		})
	}
}
