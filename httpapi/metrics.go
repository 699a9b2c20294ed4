package httpapi

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scopenative/scope/session"
)

// Metric descriptions; every session metric carries the session id.
var (
	descFPS     = prometheus.NewDesc("scope_session_fps", "Recent output frame rate of the session.", []string{"session"}, nil)
	descFrames  = prometheus.NewDesc("scope_session_frames_total", "Output frames of the session so far.", []string{"session"}, nil)
	descDropped = prometheus.NewDesc("scope_session_dropped_frames_total", "Input frames dropped at the source side (a live run slower than its source).", []string{"session"}, nil)
	descErrors  = prometheus.NewDesc("scope_session_errors_total", "Ticks dropped because a pipeline failed.", []string{"session"}, nil)
	descLate    = prometheus.NewDesc("scope_session_late_total", "Ticks that started late (paced runs).", []string{"session"}, nil)
	descPaused  = prometheus.NewDesc("scope_session_paused", "1 while the session is paused.", []string{"session"}, nil)
	descStageMS = prometheus.NewDesc("scope_stage_mean_ms", "Mean milliseconds per call of a stage (node) of the session.", []string{"session", "stage", "pipeline"}, nil)
	descCalls   = prometheus.NewDesc("scope_stage_calls_total", "Calls of a stage (node).", []string{"session", "stage", "pipeline"}, nil)
	descStErr   = prometheus.NewDesc("scope_stage_errors_total", "Failed calls of a stage (node).", []string{"session", "stage", "pipeline"}, nil)
	descStDrop  = prometheus.NewDesc("scope_stage_dropped_frames_total", "Frames a stage (node) skipped on its ports (live runs keep the newest).", []string{"session", "stage", "pipeline"}, nil)
	descStP99   = prometheus.NewDesc("scope_stage_p99_ms", "99th percentile of the milliseconds per call of a stage (node).", []string{"session", "stage", "pipeline"}, nil)
	descRestart = prometheus.NewDesc("scope_stage_restarts_total", "Restarts of an isolated stage's plugin host child (docs/isolation.md).", []string{"session", "stage", "pipeline"}, nil)
	descUp      = prometheus.NewDesc("scope_sessions", "Running sessions.", nil, nil)
	descGPUUsed = prometheus.NewDesc("scope_gpu_memory_used_bytes", "GPU memory in use.", nil, nil)
	descGPUTot  = prometheus.NewDesc("scope_gpu_memory_total_bytes", "GPU memory in all.", nil, nil)
)

// collector asks every session for its info (the socket's info operation) on each scrape.
type collector struct{ s *Server }

// Describe sends every metric's description.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFPS, descFrames, descDropped, descErrors, descLate, descPaused,
		descStageMS, descCalls, descStErr, descStDrop, descStP99, descRestart, descUp, descGPUUsed, descGPUTot} {
		ch <- d
	}
}

// Collect reads the sessions' info; a session that does not answer is left out of the scrape.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	list := c.s.cfg.Sessions.List()
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, float64(len(list)))
	for _, in := range list {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var info session.InfoResult
		err := c.s.call(ctx, in.ID, session.OpInfo, nil, &info)
		cancel()
		if err != nil {
			continue
		}
		id, st := in.ID, info.Stats
		ch <- prometheus.MustNewConstMetric(descFPS, prometheus.GaugeValue, st.FPS, id)
		ch <- prometheus.MustNewConstMetric(descFrames, prometheus.CounterValue, float64(st.Frames), id)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.Dropped), id)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(st.Errors), id)
		ch <- prometheus.MustNewConstMetric(descLate, prometheus.CounterValue, float64(st.Late), id)
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, paused, id)
		for _, sg := range info.Stages {
			labels := []string{id, strconv.Itoa(sg.Index), sg.Pipeline.ID}
			ch <- prometheus.MustNewConstMetric(descStageMS, prometheus.GaugeValue, sg.MeanMS, labels...)
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(sg.Calls), labels...)
			ch <- prometheus.MustNewConstMetric(descStErr, prometheus.CounterValue, float64(sg.Errors), labels...)
			ch <- prometheus.MustNewConstMetric(descStDrop, prometheus.CounterValue, float64(sg.Dropped), labels...)
			ch <- prometheus.MustNewConstMetric(descStP99, prometheus.GaugeValue, sg.P99MS, labels...)
			ch <- prometheus.MustNewConstMetric(descRestart, prometheus.CounterValue, float64(sg.Restarts), labels...)
		}
	}
	if c.s.cfg.GPUMemory != nil {
		if used, total, ok := c.s.cfg.GPUMemory(); ok {
			ch <- prometheus.MustNewConstMetric(descGPUUsed, prometheus.GaugeValue, float64(used))
			ch <- prometheus.MustNewConstMetric(descGPUTot, prometheus.GaugeValue, float64(total))
		}
	}
}
