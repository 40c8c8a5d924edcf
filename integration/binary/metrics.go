package binary

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
)

// MetricValue returns the value of the sample named (with its labels)
// series in a Prometheus text-format scrape, and whether there is one.
func MetricValue(scrape, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(scrape)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// Scrape reads the metrics of the server whose ops listener is at ops
// (Server.Ops); "" if it cannot.
func Scrape(c *http.Client, ops string) string {
	a := Send(context.Background(), c, "GET", ops+"/metrics", "", "")
	if a.Err != nil || a.Status != http.StatusOK {
		return ""
	}
	return string(a.Body)
}
