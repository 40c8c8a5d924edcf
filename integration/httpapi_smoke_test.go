package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/repo"
)

func TestHTTPSmoke(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	hash, _ := repo.HashPassword("correct horse battery")
	var foreignJob *ent.Job
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		a := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		b := tx.Organization.Create().SetName("B").SetSlug("b").SaveX(sys)
		ad := tx.User.Create().SetOrgID(a.ID).SetEmail("admin@a.test").SetName("A").SetRole("admin").SetPasswordHash(hash).SaveX(sys)
		bd := tx.User.Create().SetOrgID(b.ID).SetEmail("admin@b.test").SetName("B").SetRole("admin").SetPasswordHash(hash).SaveX(sys)
		ca := tx.Company.Create().SetOrgID(a.ID).SetName("C").SaveX(sys)
		cb := tx.Company.Create().SetOrgID(b.ID).SetName("C").SaveX(sys)
		tx.Job.Create().SetOrgID(a.ID).SetCompanyID(ca.ID).SetTitle("a job").SetStatus(job.StatusPublished).SetCreatedByID(ad.ID).SaveX(sys)
		foreignJob = tx.Job.Create().SetOrgID(b.ID).SetCompanyID(cb.ID).SetTitle("b job").SetCreatedByID(bd.ID).SaveX(sys)
		return nil
	})
	api, err := httpapi.New(httpapi.Config{Client: db.Client, Ping: db.SQL.PingContext})
	require.NoError(t, err)
	srv := httptest.NewServer(api)
	defer srv.Close()
	do := func(method, path, token, body string) (int, string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := apiValidated(t, srv.Client()).Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := do("POST", "/api/session", "", `{"email":"admin@a.test","password":"correct horse battery"}`)
	require.Equal(t, 201, code, body)
	var sess struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &sess))

	code, body = do("GET", "/api/jobs?preload=company,managers", sess.Token, "")
	assert.Equal(t, 200, code, body)
	assert.Contains(t, body, `"a job"`)
	assert.NotContains(t, body, `"b job"`)

	code, hidden := do("GET", "/api/jobs/"+itoa(foreignJob.ID), sess.Token, "")
	assert.Equal(t, 404, code)
	code, missing := do("GET", "/api/jobs/"+itoa(pgtest.MissingID), sess.Token, "")
	assert.Equal(t, 404, code)
	assert.Equal(t, missing, hidden)

	code, body = do("GET", "/api/jobs?preload=creator", sess.Token, "")
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "preload_not_allowed")

	code, body = do("GET", "/api/me", sess.Token, "")
	assert.Equal(t, 200, code, body)
	assert.Contains(t, body, `"job.create"`)

	code, _ = do("DELETE", "/api/session", sess.Token, "")
	assert.Equal(t, 204, code)
	code, _ = do("GET", "/api/me", sess.Token, "")
	assert.Equal(t, 401, code)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
