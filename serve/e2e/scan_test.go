package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// filesUnder lists the regular files under dir, sorted.
func filesUnder(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// pick gives files to the page through the "Choose files" input, as a
// keyboard user would.
func (tb *tab) pick(files []string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), files)); err != nil {
		tb.t.Fatal(err)
	}
}

func TestPickA0002(t *testing.T) {
	dir := needTestdata(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	tb.open()
	tb.pick(filesUnder(t, dir))
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 2*time.Minute)
	tb.screenshot("02-a0002")
	t.Log(eval[string](tb, `document.getElementById("report").innerText`))
}
