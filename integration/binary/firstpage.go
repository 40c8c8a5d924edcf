package binary

import (
	"encoding/json"
	"errors"
	"fmt"
)

// FirstPage holds the ids a test that drives a server takes from the
// admin's first page of jobs: every job's, for the requests that read one,
// and the company and managers of a job that has managers, for the jobs it
// creates (their links make a create more than one statement).
type FirstPage struct {
	JobIDs     []int
	CompanyID  int
	ManagerIDs []int
}

// ReadFirstPage reads a FirstPage from the body of a page of jobs loaded
// with their managers (preload=managers). A page with no jobs, or none with
// managers, is an error: the tests need both.
func ReadFirstPage(body []byte) (FirstPage, error) {
	var page struct {
		Data []struct {
			ID        int `json:"id"`
			CompanyID int `json:"company_id"`
			Edges     struct {
				Managers []struct {
					ID int `json:"id"`
				} `json:"managers"`
			} `json:"edges"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return FirstPage{}, fmt.Errorf("the first page of jobs: %w", err)
	}
	if len(page.Data) == 0 {
		return FirstPage{}, errors.New("the first page of jobs is empty")
	}
	var p FirstPage
	for _, j := range page.Data {
		p.JobIDs = append(p.JobIDs, j.ID)
		if p.ManagerIDs == nil && len(j.Edges.Managers) > 0 {
			p.CompanyID = j.CompanyID
			for _, m := range j.Edges.Managers {
				p.ManagerIDs = append(p.ManagerIDs, m.ID)
			}
		}
	}
	if p.ManagerIDs == nil {
		return FirstPage{}, errors.New("no job of the first page has managers")
	}
	return p, nil
}
