package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

func contextTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

// getOne serves GET …/{id} for one entity: read it with the surface's
// preloads, then encode its view.
func getOne[T, V any](surface preload.Surface, get func(context.Context, preload.Surface, int, repo.GetOptions) (T, policy.Redacted, error),
	view func(T, policy.Redacted) V) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		o, err := getOptions(r.URL.Query())
		if err != nil {
			return err
		}
		v, red, err := get(r.Context(), surface, id, o)
		return writeOne(w, http.StatusOK, view, v, red, err)
	}
}

// deleteOne serves DELETE …/{id}: 204 with no body, or the repository's
// error (a row the scope cannot see is the same 404 as a missing one).
func deleteOne(del func(context.Context, int) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := del(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// listAll serves GET … for an entity without list filters.
func listAll[T, V any](surface preload.Surface, list func(context.Context, preload.Surface, repo.ListOptions) (repo.Page[T], error),
	view func(T, policy.Redacted) V) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := listOptions(r.URL.Query())
		if err != nil {
			return err
		}
		p, err := list(r.Context(), surface, o)
		return writePage(w, view, p, err)
	}
}

// writeOne answers one entity the repository returned, in its view, with
// status (200, or 201 for a create); or err, the repository's.
func writeOne[T, V any](w http.ResponseWriter, status int, view func(T, policy.Redacted) V, v T, red policy.Redacted, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, oneBody[V]{Data: view(v, red)})
	return nil
}

// writePage answers a page the repository returned, each item in its view
// and the cursor of the next page; or err, the repository's.
func writePage[T, V any](w http.ResponseWriter, view func(T, policy.Redacted) V, p repo.Page[T], err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listBody[V]{Data: viewEach(p.Items, p.Redacted, view), NextCursor: p.NextCursor})
	return nil
}

// ---- jobs

func (s *Server) listJobs(surface preload.Surface) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		o, err := listOptions(q, "status")
		if err != nil {
			return err
		}
		p, err := s.repos.Jobs.List(r.Context(), surface, repo.JobFilter{Status: q.Get("status")}, o)
		return writePage(w, viewJob, p, err)
	}
}

type jobRequest struct {
	Title       Optional[string] `json:"title" max:"200"`
	Description Optional[string] `json:"description" max:"20000"`
	CompanyID   Optional[int]    `json:"company_id"`
	Status      Optional[string] `json:"status" max:"20"`
	SalaryMax   Optional[int]    `json:"salary_max"`
	ManagerIDs  Optional[[]int]  `json:"manager_ids" max:"100"`
}

func (j jobRequest) nulls() map[string]bool {
	return map[string]bool{"title": j.Title.Null, "description": j.Description.Null, "company_id": j.CompanyID.Null,
		"status": j.Status.Null, "manager_ids": j.ManagerIDs.Null}
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeBody[jobRequest](r)
	if err != nil {
		return err
	}
	j, red, err := s.repos.Jobs.Create(r.Context(), repo.JobInput{
		Title: in.Title.Value, Description: in.Description.Value, CompanyID: in.CompanyID.Value,
		Status: in.Status.Value, SalaryMax: in.SalaryMax.ptr(), ManagerIDs: in.ManagerIDs.Value,
	})
	return writeOne(w, http.StatusCreated, viewJob, j, red, err)
}

func (s *Server) updateJob(w http.ResponseWriter, r *http.Request) error {
	id, in, err := idAndBody[jobRequest](r)
	if err != nil {
		return err
	}
	p := repo.JobPatch{Title: in.Title.ptr(), Description: in.Description.ptr(), CompanyID: in.CompanyID.ptr(),
		Status: in.Status.ptr(), SalaryMax: in.SalaryMax.ptr(), ClearSalaryMax: in.SalaryMax.Null, ManagerIDs: in.ManagerIDs.ptr()}
	j, red, err := s.repos.Jobs.Update(r.Context(), id, p)
	return writeOne(w, http.StatusOK, viewJob, j, red, err)
}

// ---- notes

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := listOptions(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := s.repos.Notes.List(r.Context(), preload.SurfaceUser, id, o)
	return writePage(w, viewNote, p, err)
}

type noteRequest struct {
	Body     Optional[string] `json:"body" max:"20000"`
	Internal Optional[bool]   `json:"internal"`
}

func (n noteRequest) nulls() map[string]bool {
	return map[string]bool{"body": n.Body.Null, "internal": n.Internal.Null}
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request) error {
	id, in, err := idAndBody[noteRequest](r)
	if err != nil {
		return err
	}
	n, red, err := s.repos.Notes.Create(r.Context(), id, repo.NoteInput{Body: in.Body.Value, Internal: in.Internal.Value})
	return writeOne(w, http.StatusCreated, viewNote, n, red, err)
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request) error {
	id, in, err := idAndBody[noteRequest](r)
	if err != nil {
		return err
	}
	n, red, err := s.repos.Notes.Update(r.Context(), id, repo.NotePatch{Body: in.Body.ptr(), Internal: in.Internal.ptr()})
	return writeOne(w, http.StatusOK, viewNote, n, red, err)
}

// ---- companies

type companyRequest struct {
	Name     Optional[string] `json:"name" max:"200"`
	Archived Optional[bool]   `json:"archived"`
}

func (c companyRequest) nulls() map[string]bool {
	return map[string]bool{"name": c.Name.Null, "archived": c.Archived.Null}
}

func (s *Server) createCompany(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeBody[companyRequest](r)
	if err != nil {
		return err
	}
	c, red, err := s.repos.Companies.Create(r.Context(), repo.CompanyInput{Name: in.Name.Value, Archived: in.Archived.Value})
	return writeOne(w, http.StatusCreated, viewCompany, c, red, err)
}

func (s *Server) updateCompany(w http.ResponseWriter, r *http.Request) error {
	id, in, err := idAndBody[companyRequest](r)
	if err != nil {
		return err
	}
	c, red, err := s.repos.Companies.Update(r.Context(), id, repo.CompanyPatch{Name: in.Name.ptr(), Archived: in.Archived.ptr()})
	return writeOne(w, http.StatusOK, viewCompany, c, red, err)
}

// ---- users

type userRequest struct {
	Email     Optional[string] `json:"email" max:"320"`
	Name      Optional[string] `json:"name" max:"200"`
	Phone     Optional[string] `json:"phone" max:"50"`
	Role      Optional[string] `json:"role" max:"20"`
	Password  Optional[string] `json:"password" maxbytes:"72"`
	CompanyID Optional[int]    `json:"company_id"`
	Banned    Optional[bool]   `json:"banned"`
	Active    Optional[bool]   `json:"active"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Banned.Set || in.Active.Set {
		return &badRequest{msg: "unknown field", fields: map[string]string{"banned/active": "set them with PATCH"}}
	}
	if err := nullNotAllowed(map[string]bool{"email": in.Email.Null, "name": in.Name.Null, "phone": in.Phone.Null,
		"role": in.Role.Null, "password": in.Password.Null}); err != nil {
		return err
	}
	u, red, err := s.repos.Users.Create(r.Context(), repo.UserInput{Email: in.Email.Value, Name: in.Name.Value,
		Phone: in.Phone.Value, Role: in.Role.Value, Password: in.Password.Value, CompanyID: in.CompanyID.ptr()})
	return writeOne(w, http.StatusCreated, viewUser, u, red, err)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in userRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Email.Set || in.Password.Set {
		return &badRequest{msg: "unknown field", fields: map[string]string{"email/password": "cannot be changed here"}}
	}
	if err := nullNotAllowed(map[string]bool{"name": in.Name.Null, "phone": in.Phone.Null, "role": in.Role.Null,
		"banned": in.Banned.Null, "active": in.Active.Null}); err != nil {
		return err
	}
	p := repo.UserPatch{Name: in.Name.ptr(), Phone: in.Phone.ptr(), Role: in.Role.ptr(), Banned: in.Banned.ptr(),
		Active: in.Active.ptr(), CompanyID: in.CompanyID.ptr(), ClearCompanyID: in.CompanyID.Null}
	u, red, err := s.repos.Users.Update(r.Context(), id, p)
	return writeOne(w, http.StatusOK, viewUser, u, red, err)
}
