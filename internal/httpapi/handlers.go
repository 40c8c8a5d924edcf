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
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, oneBody[V]{Data: view(v, red)})
		return nil
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
	view func([]T, policy.Redacted) []V) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := listOptions(r.URL.Query())
		if err != nil {
			return err
		}
		p, err := list(r.Context(), surface, o)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, listBody[V]{Data: view(p.Items, p.Redacted), NextCursor: p.NextCursor})
		return nil
	}
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
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, listBody[jobView]{Data: viewJobs(p.Items, p.Redacted), NextCursor: p.NextCursor})
		return nil
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
	var in jobRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(in.nulls()); err != nil {
		return err
	}
	j, red, err := s.repos.Jobs.Create(r.Context(), repo.JobInput{
		Title: in.Title.Value, Description: in.Description.Value, CompanyID: in.CompanyID.Value,
		Status: in.Status.Value, SalaryMax: in.SalaryMax.ptr(), ManagerIDs: in.ManagerIDs.Value,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oneBody[jobView]{Data: viewJob(j, red)})
	return nil
}

func (s *Server) updateJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in jobRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(in.nulls()); err != nil {
		return err
	}
	p := repo.JobPatch{Title: in.Title.ptr(), Description: in.Description.ptr(), CompanyID: in.CompanyID.ptr(),
		Status: in.Status.ptr(), SalaryMax: in.SalaryMax.ptr(), ClearSalaryMax: in.SalaryMax.Null, ManagerIDs: in.ManagerIDs.ptr()}
	j, red, err := s.repos.Jobs.Update(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oneBody[jobView]{Data: viewJob(j, red)})
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listBody[noteView]{Data: viewNotes(p.Items, p.Redacted), NextCursor: p.NextCursor})
	return nil
}

type noteRequest struct {
	Body     Optional[string] `json:"body" max:"20000"`
	Internal Optional[bool]   `json:"internal"`
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(map[string]bool{"body": in.Body.Null, "internal": in.Internal.Null}); err != nil {
		return err
	}
	n, red, err := s.repos.Notes.Create(r.Context(), id, repo.NoteInput{Body: in.Body.Value, Internal: in.Internal.Value})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oneBody[noteView]{Data: viewNote(n, red)})
	return nil
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in noteRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(map[string]bool{"body": in.Body.Null, "internal": in.Internal.Null}); err != nil {
		return err
	}
	n, red, err := s.repos.Notes.Update(r.Context(), id, repo.NotePatch{Body: in.Body.ptr(), Internal: in.Internal.ptr()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oneBody[noteView]{Data: viewNote(n, red)})
	return nil
}

// ---- companies

type companyRequest struct {
	Name     Optional[string] `json:"name" max:"200"`
	Archived Optional[bool]   `json:"archived"`
}

func (s *Server) createCompany(w http.ResponseWriter, r *http.Request) error {
	var in companyRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(map[string]bool{"name": in.Name.Null, "archived": in.Archived.Null}); err != nil {
		return err
	}
	c, red, err := s.repos.Companies.Create(r.Context(), repo.CompanyInput{Name: in.Name.Value, Archived: in.Archived.Value})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oneBody[companyView]{Data: viewCompany(c, red)})
	return nil
}

func (s *Server) updateCompany(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in companyRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := nullNotAllowed(map[string]bool{"name": in.Name.Null, "archived": in.Archived.Null}); err != nil {
		return err
	}
	c, red, err := s.repos.Companies.Update(r.Context(), id, repo.CompanyPatch{Name: in.Name.ptr(), Archived: in.Archived.ptr()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oneBody[companyView]{Data: viewCompany(c, red)})
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, oneBody[userView]{Data: viewUser(u, red)})
	return nil
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
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oneBody[userView]{Data: viewUser(u, red)})
	return nil
}
