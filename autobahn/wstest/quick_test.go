package wstest

import (
	"context"
	"testing"
)

func TestQuickAll(t *testing.T) {
	url := startSubjectServer(t, defects{})
	cases, _ := Select(Catalogue(), []string{"*"}, nil)
	c := &Client{URL: url, Cases: cases, Parallel: 8}
	rs, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !r.Passed() || (r.Behavior != OK && r.Behavior != Informational) {
			t.Errorf("%s: %s %s %s / %s", r.ID, r.Behavior, r.BehaviorClose, r.Result, r.ResultClose)
		}
	}
	t.Log(len(rs))
}
