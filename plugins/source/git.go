package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/scopenative/scope/plugins/internal/confine"
)

// Ref kinds recorded for an installed git plugin.
const (
	RefBranch  = "branch"  // follows a branch: updates when it moves
	RefTag     = "tag"     // pinned to a tag: updates when the tag is moved
	RefCommit  = "commit"  // pinned to a commit: never updates
	RefDefault = "default" // the remote's default branch (HEAD)
)

// Checkout is a fetched git source.
type Checkout struct {
	// Dir is the working tree, checked out at Commit.
	Dir string
	// Commit is the full hash checked out.
	Commit string
	// RefKind is RefBranch, RefTag, RefCommit or RefDefault.
	RefKind string
	// Ref is the branch or tag followed (for RefDefault: the default branch's name), or the
	// commit as requested.
	Ref string
}

// ErrUnknownRef is wrapped by Clone when the ref names no branch, tag or commit.
var ErrUnknownRef = errors.New("unknown ref")

// needsGitBinary reports whether go-git needs the git command for url: its file transport
// runs git-upload-pack.
func needsGitBinary(url string) error {
	if !strings.HasPrefix(url, "file://") {
		return nil
	}
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("fetching from a local repository (%s) needs the git command, which is not installed: install git (apt-get install git) or use an https URL", url)
	}
	return nil
}

// Clone clones url into dir (which must not exist or be empty) and checks out ref: a
// branch, a tag or a commit (full or abbreviated hash); an empty ref means the default
// branch. progress receives go-git's progress text (may be nil).
func Clone(ctx context.Context, url, ref, dir string, progress io.Writer) (*Checkout, error) {
	if err := CheckRef(ref); err != nil {
		return nil, err
	}
	if err := needsGitBinary(url); err != nil {
		return nil, err
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL: url, NoCheckout: true, Tags: git.AllTags, Progress: progress,
	})
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", url, err)
	}
	co := &Checkout{Dir: dir}
	var hash plumbing.Hash
	switch {
	case ref == "":
		head, err := repo.Head()
		if err != nil {
			return nil, fmt.Errorf("clone %s: the repository has no default branch: %w", url, err)
		}
		hash = head.Hash()
		co.RefKind, co.Ref = RefDefault, head.Name().Short()
	default:
		if r, err := repo.Reference(plumbing.NewRemoteReferenceName("origin", ref), true); err == nil {
			hash, co.RefKind, co.Ref = r.Hash(), RefBranch, ref
		} else if r, err := repo.Tag(ref); err == nil {
			hash, co.RefKind, co.Ref = r.Hash(), RefTag, ref
			if tag, err := repo.TagObject(hash); err == nil { // annotated: peel to the commit
				c, err := tag.Commit()
				if err != nil {
					return nil, fmt.Errorf("tag %s of %s does not point at a commit: %w", ref, url, err)
				}
				hash = c.Hash
			}
		} else if isHex(ref) && len(ref) >= 4 {
			h, err := repo.ResolveRevision(plumbing.Revision(ref))
			if err != nil {
				return nil, unknownRef(repo, url, ref)
			}
			if _, err := repo.CommitObject(*h); err != nil {
				return nil, unknownRef(repo, url, ref)
			}
			hash, co.RefKind, co.Ref = *h, RefCommit, ref
		} else {
			return nil, unknownRef(repo, url, ref)
		}
	}
	// Whatever the ref named, what gets built is a commit of the repository: refuse anything
	// else (a zero hash, a tree, a blob) rather than record a commit that was not checked out.
	if hash.IsZero() {
		return nil, fmt.Errorf("%w %q in %s: it resolves to no commit", ErrUnknownRef, ref, url)
	}
	if _, err := repo.CommitObject(hash); err != nil {
		return nil, fmt.Errorf("%w %q in %s: it names %s, which is not a commit: %w", ErrUnknownRef, ref, url, hash, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", url, err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: hash, Force: true}); err != nil {
		return nil, fmt.Errorf("check out %s at %s: %w", url, hash, err)
	}
	head, err := repo.Head()
	if err != nil || head.Hash() != hash {
		return nil, fmt.Errorf("check out %s at %s: the working tree is not at that commit (HEAD %v)", url, hash, err)
	}
	if err := confine.CheckTree(dir); err != nil {
		return nil, fmt.Errorf("%s at %s: %w", url, hash.String()[:7], err)
	}
	co.Commit = hash.String()
	return co, nil
}

// ErrBadRef is wrapped by CheckRef (and so by Clone) for a ref that cannot name a branch,
// tag or commit.
var ErrBadRef = errors.New("not a branch, tag or commit name")

// CheckRef refuses a ref that is not a branch or tag name by git's rules (git
// check-ref-format --branch: no "..", no component starting with '.', no control
// characters, spaces or ~^:?*[\, no "@{", not "@", not ending in '/', '.' or ".lock", not
// starting with '-') and not a commit hash. "HEAD" is refused too: it is not a branch, and
// no ref means the default branch. An empty ref is fine (the default branch).
func CheckRef(ref string) error {
	if ref == "" || isHex(ref) && len(ref) >= 4 && len(ref) <= 64 {
		return nil
	}
	bad := ref == "HEAD" || strings.HasPrefix(ref, "-") || strings.HasPrefix(ref, "/") ||
		strings.HasSuffix(ref, "/") || strings.HasPrefix(ref, "refs/") ||
		plumbing.NewBranchReferenceName(ref).Validate() != nil
	if bad {
		return fmt.Errorf("ref %q is %w: give a branch (main), a tag (v1.0.0) or a commit hash, or no @ref for the default branch", ref, ErrBadRef)
	}
	return nil
}

// unknownRef builds the error for a ref that is not in the repository, listing what is.
func unknownRef(repo *git.Repository, url, ref string) error {
	var branches, tags []string
	if refs, err := repo.References(); err == nil {
		_ = refs.ForEach(func(r *plumbing.Reference) error {
			n := r.Name()
			switch {
			case n.IsRemote() && !strings.HasSuffix(n.String(), "/HEAD"):
				branches = append(branches, strings.TrimPrefix(n.Short(), "origin/"))
			case n.IsTag():
				tags = append(tags, n.Short())
			}
			return nil
		})
	}
	sort.Strings(branches)
	sort.Strings(tags)
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "none"
		}
		if len(xs) > 10 {
			xs = append(xs[:10:10], "...")
		}
		return strings.Join(xs, ", ")
	}
	return fmt.Errorf("%w %q in %s: no branch, tag or commit by that name (branches: %s; tags: %s)",
		ErrUnknownRef, ref, url, list(branches), list(tags))
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return s != ""
}

// RemoteCommit asks the remote where a followed ref points now (without cloning): the
// commit of the branch, tag or default branch refKind and ref name.
func RemoteCommit(ctx context.Context, url, refKind, ref string) (string, error) {
	if refKind == RefCommit {
		return ref, nil
	}
	refs, err := RemoteRefs(ctx, url)
	if err != nil {
		return "", err
	}
	return refs.Commit(url, refKind, ref)
}

// Refs are a remote's refs by full name ("refs/tags/v1^{}" for a peeled tag) and the commit
// each points at ("HEAD" may instead point at "ref: NAME").
type Refs map[string]string

// RemoteRefs lists the remote's refs (without cloning).
func RemoteRefs(ctx context.Context, url string) (Refs, error) {
	if err := needsGitBinary(url); err != nil {
		return nil, err
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	list, err := rem.ListContext(ctx, &git.ListOptions{PeelingOption: git.AppendPeeled})
	if err != nil {
		return nil, fmt.Errorf("list refs of %s: %w", url, err)
	}
	refs := Refs{}
	for _, r := range list {
		if r.Type() == plumbing.SymbolicReference {
			refs[r.Name().String()] = "ref: " + r.Target().String()
			continue
		}
		refs[r.Name().String()] = r.Hash().String()
	}
	return refs, nil
}

// Commit is where the followed ref (refKind, ref) points in refs; url names the remote in
// the error.
func (refs Refs) Commit(url, refKind, ref string) (string, error) {
	var name string
	switch refKind {
	case RefCommit:
		return ref, nil
	case RefBranch:
		name = "refs/heads/" + ref
	case RefTag:
		name = "refs/tags/" + ref
		if peeled, ok := refs[name+"^{}"]; ok {
			return peeled, nil
		}
	case RefDefault:
		if head, ok := refs["HEAD"]; ok {
			if target, sym := strings.CutPrefix(head, "ref: "); sym {
				name = target
			} else {
				return head, nil
			}
		} else {
			name = "refs/heads/" + ref
		}
	default:
		return "", fmt.Errorf("unknown ref kind %q", refKind)
	}
	c, ok := refs[name]
	if !ok {
		return "", fmt.Errorf("%s no longer has %s %s", url, refKind, ref)
	}
	return c, nil
}

// Tags returns the names of the remote's tags.
func (refs Refs) Tags() []string {
	var out []string
	for name := range refs {
		if t, ok := strings.CutPrefix(name, "refs/tags/"); ok && !strings.HasSuffix(t, "^{}") {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}
