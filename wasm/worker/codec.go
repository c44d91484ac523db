//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"

	"sscscore/wasm/internal/protocol"
)

func decode(s string) (*protocol.Msg, error) {
	var m protocol.Msg
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	if m.Kind == "" {
		return nil, fmt.Errorf("bad request: no kind")
	}
	return &m, nil
}

func encode(m *protocol.Msg) string {
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(&protocol.Msg{Kind: protocol.Error, Job: m.Job, Error: "internal error: " + err.Error()})
	}
	return string(b)
}
