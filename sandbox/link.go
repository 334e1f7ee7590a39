package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
)

// link is the child's side of the HTTP exchange with the parent.
type link struct {
	w    *lineWriter
	r    *bufio.Reader
	next int
}

// maxReplyBytes caps one HTTP reply line from the parent.
const maxReplyBytes = 16 << 20

// errNoParent means the parent did not answer an HTTP request.
var errNoParent = errors.New("the worker did not answer")

// call sends an HTTP request to the parent and waits for its reply.
func (l *link) call(req HTTPRequest) (HTTPResponse, error) {
	l.next++
	if err := l.w.write(childMsg{Type: msgHTTP, ID: l.next, HTTP: &req}); err != nil {
		return HTTPResponse{}, errNoParent
	}
	line, err := readLine(l.r, maxReplyBytes)
	if err != nil {
		return HTTPResponse{}, errNoParent
	}
	var rep httpReply
	if err := json.Unmarshal(line, &rep); err != nil || rep.ID != l.next {
		return HTTPResponse{}, fmt.Errorf("bad reply from the worker")
	}
	if rep.Error != "" {
		return HTTPResponse{}, errors.New(rep.Error)
	}
	if rep.Response == nil {
		return HTTPResponse{}, fmt.Errorf("empty reply from the worker")
	}
	return *rep.Response, nil
}
