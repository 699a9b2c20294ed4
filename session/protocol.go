package session

import (
	"encoding/json"
)

// Request is one line a client sends: an operation with its arguments.
type Request struct {
	ID   uint64          `json:"id"`             // echoed in the response
	Op   string          `json:"op"`             // "info", "set", "pause", ...
	Args json.RawMessage `json:"args,omitempty"` // the operation's arguments (an object)
}

// Response is the line a server answers a Request with.
type Response struct {
	ID     uint64          `json:"id"`
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`  // set when OK is false
	Result json.RawMessage `json:"result,omitempty"` // the operation's result (an object)
}

// Built-in operations.
const (
	OpInfo      = "info"
	OpSet       = "set"
	OpPause     = "pause"
	OpResume    = "resume"
	OpStop      = "stop"
	OpSaveFrame = "save-frame"
	OpPrompts   = "prompts"
	// OpReload is not built in: the plugin manager registers it with Server.Handle. Its
	// arguments are ReloadArgs.
	OpReload = "reload"
)

// ErrReloadUnavailable is the message a session without a reload handler answers OpReload with.
const ErrReloadUnavailable = "reloading is not available in this session"

// InfoResult is the answer to OpInfo: the chain with each stage's schema, values and stats.
type InfoResult struct {
	Session Info        `json:"session"`
	Paused  bool        `json:"paused"`
	Prompts []Prompt    `json:"prompts"` // for the stages whose pipeline supports prompts
	Stages  []StageInfo `json:"stages"`
	Stats   LiveStats   `json:"stats"`
}

// StageInfo is one pipeline of the chain.
type StageInfo struct {
	Index    int               `json:"index"`
	Plugin   string            `json:"plugin"` // the library's path as installed (what reload takes)
	Mode     string            `json:"mode"`   // "text" or "video"
	Pipeline PipelineSchema    `json:"pipeline"`
	Values   map[string]string `json:"values"` // key -> value as text (Param.Parse reads it)
	MeanMS   float64           `json:"mean_ms"`
	Calls    int               `json:"calls"`
	Errors   int               `json:"errors"`
	// Graph stats of the node: its name, calls per second, ms per call quantiles, frames
	// waiting on its ports and frames it skipped (live runs keep the newest).
	Node    string  `json:"node,omitempty"`
	FPS     float64 `json:"fps"`
	P50MS   float64 `json:"p50_ms"`
	P95MS   float64 `json:"p95_ms"`
	P99MS   float64 `json:"p99_ms"`
	Queue   int     `json:"queue"`
	Dropped int     `json:"dropped"`
	// Isolated is true when the stage runs in a plugin host child (see docs/isolation.md);
	// Restarts counts its restarts, State is running, restarting or disabled, and Bypassed
	// counts the frames it passed its input through while it could not run.
	Isolated bool   `json:"isolated,omitempty"`
	Restarts int    `json:"restarts,omitempty"`
	State    string `json:"state,omitempty"`
	Bypassed int    `json:"bypassed,omitempty"`
	// LastFault describes the newest fault of an isolated stage (plugin file, pipeline, call,
	// signal or timeout), "" when none.
	LastFault string `json:"last_fault,omitempty"`
}

// SinkInfo is one sink of the run's graph with its end-to-end latency (from the moment a
// source produced a frame's data to its write).
type SinkInfo struct {
	Name      string  `json:"name"`
	Frames    int     `json:"frames"`
	Dropped   int     `json:"dropped"`
	LatencyMS float64 `json:"latency_ms"` // of the last frame
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
}

// PipelineSchema is the part of a pipeline's schema a user interface needs.
type PipelineSchema struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Description     string        `json:"description,omitempty"`
	Version         string        `json:"version,omitempty"`
	SupportsPrompts bool          `json:"supports_prompts,omitempty"`
	ProducesAudio   bool          `json:"produces_audio,omitempty"`
	Params          []ParamSchema `json:"params"`
}

// ParamSchema describes one parameter with its UI hints.
type ParamSchema struct {
	Key         string       `json:"key"`
	Label       string       `json:"label"`
	Description string       `json:"description,omitempty"`
	Type        string       `json:"type"` // bool, int, float, string, enum, color
	Min         float64      `json:"min,omitempty"`
	Max         float64      `json:"max,omitempty"`
	Step        float64      `json:"step,omitempty"`
	Options     []EnumOption `json:"options,omitempty"`
	Default     string       `json:"default"`
	LoadTime    bool         `json:"load_time,omitempty"`
	Hidden      bool         `json:"hidden,omitempty"`
	Category    string       `json:"category"` // configuration or input
	Order       int          `json:"order"`
}

// EnumOption is one option of an enum parameter.
type EnumOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// LiveStats are the session's counters.
type LiveStats struct {
	Frames    int        `json:"frames"`     // output frames so far
	FPS       float64    `json:"fps"`        // recent output rate
	Errors    int        `json:"errors"`     // ticks dropped because a pipeline failed
	Late      int        `json:"late"`       // ticks that started late (with --fps)
	Dropped   uint64     `json:"dropped"`    // input frames dropped at the source side
	Width     int        `json:"width"`      // size of the last output frame
	Height    int        `json:"height"`     //
	ElapsedMS float64    `json:"elapsed_ms"` // since the run started
	Sinks     []SinkInfo `json:"sinks,omitempty"`
}

// SetArgs are the arguments of OpSet: one runtime parameter of one stage, as text.
type SetArgs struct {
	Stage int    `json:"stage"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Prompt is one weighted text prompt.
type Prompt struct {
	Text   string  `json:"text"`
	Weight float32 `json:"weight"`
}

// PromptsArgs are the arguments of OpPrompts: the new prompts of every stage that takes them.
type PromptsArgs struct {
	Prompts []Prompt `json:"prompts"`
}

// SetResult is the answer to OpSet: the value as stored.
type SetResult struct {
	Value string `json:"value"`
}

// SaveFrameArgs are the arguments of OpSaveFrame. An empty path saves
// scope-<session>-<frame>.png in the session's working directory.
type SaveFrameArgs struct {
	Path string `json:"path,omitempty"`
}

// SaveFrameResult is the answer to OpSaveFrame.
type SaveFrameResult struct {
	Path   string `json:"path"`
	Frame  uint64 `json:"frame"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// ReloadArgs are the arguments of OpReload: the stage and its plugin's path.
type ReloadArgs struct {
	Stage  int    `json:"stage"`
	Plugin string `json:"plugin"`
}

// ReloadResult is the part of OpReload's answer a preview shows.
type ReloadResult struct {
	// Rebuilt is true when the plugin was rebuilt from its sources first.
	Rebuilt bool `json:"rebuilt"`
	// Message says what was done ("reloaded NAME: stage 0 (ID) runs the new build").
	Message string `json:"message"`
}

// Graph edit operations (docs/sessions.md, docs/graphs.md "Edits"). Each one answers the
// graph after the edit (GraphResult); a refused edit answers the reason and changes nothing.
const (
	OpGraph        = "graph"         // no arguments: the live graph
	OpAddNode      = "add-node"      // AddNodeArgs
	OpRemoveNode   = "remove-node"   // NodeArgs
	OpReplaceNode  = "replace-node"  // ReplaceNodeArgs
	OpConnect      = "connect"       // EdgeArgs
	OpDisconnect   = "disconnect"    // EdgeArgs
	OpSwitchSource = "switch-source" // SwitchSourceArgs
)

// GraphResult is a running graph: every node and edge.
type GraphResult struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is one node of a running graph.
type GraphNode struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`               // source, pipeline or sink
	Pipeline string   `json:"pipeline,omitempty"` // pipeline nodes: the pipeline id
	Mode     string   `json:"mode,omitempty"`     // pipeline nodes: text or video
	Spec     string   `json:"spec,omitempty"`     // sources and sinks: the media spec
	Ports    []string `json:"ports,omitempty"`    // pipeline nodes: input port names
	Stage    *int     `json:"stage,omitempty"`    // pipeline nodes: the stage index (set, reload)
}

// GraphEdge is one edge: From's output into port Port (PortName) of To.
type GraphEdge struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Port     int    `json:"port"`
	PortName string `json:"port_name,omitempty"`
}

// AddNodeArgs are the arguments of OpAddNode: a pipeline node, the nodes that feed it
// ("NODE" feeds the ports in order, "PORT=NODE" one port) and the ports it feeds
// ("NODE" or "NODE.PORT"; each is taken over from the edge that fed it).
type AddNodeArgs struct {
	Name       string            `json:"name"`
	Pipeline   string            `json:"pipeline"`
	Mode       string            `json:"mode,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	LoadParams map[string]string `json:"load_params,omitempty"`
	Inputs     []string          `json:"inputs,omitempty"`
	Outputs    []string          `json:"outputs,omitempty"`
}

// NodeArgs name one node (OpRemoveNode).
type NodeArgs struct {
	Name string `json:"name"`
}

// ReplaceNodeArgs are the arguments of OpReplaceNode: the node and its new pipeline.
type ReplaceNodeArgs struct {
	Name       string            `json:"name"`
	Pipeline   string            `json:"pipeline"`
	Mode       string            `json:"mode,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	LoadParams map[string]string `json:"load_params,omitempty"`
}

// EdgeArgs are the arguments of OpConnect and OpDisconnect: From's output into To's port
// Port (a port name or index; empty is the first port). To may also be "NODE.PORT".
type EdgeArgs struct {
	From string `json:"from"`
	To   string `json:"to"`
	Port string `json:"port,omitempty"`
}

// SwitchSourceArgs are the arguments of OpSwitchSource: the source node and its new input
// spec (as for --input).
type SwitchSourceArgs struct {
	Name  string `json:"name"`
	Input string `json:"input"`
}
