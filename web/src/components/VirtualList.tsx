"use client";
// A small virtualized list for the message log: only the rows within the
// viewport (plus an overscan margin) are in the DOM, however long the
// history. Row heights are measured once rendered (ResizeObserver) and
// estimated before. The first visible row is the scroll anchor: after rows
// are prepended (older pages) or re-measured, the view keeps it in place; at
// the bottom, the view follows new rows.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

export interface VRow {
  key: string;
  estimate: number;
  /**
   * false for a row that is not a stable scroll anchor: a day heading stays
   * first when older rows of its day are prepended, so anchoring on it would
   * pin the view to the top instead of keeping the person's place.
   */
  anchor?: boolean;
}

interface Props<T extends VRow> {
  rows: T[];
  render: (row: T) => React.ReactNode;
  label: string;
  className?: string;
  onNearTop?: () => void;
  /** Called with true when the view is at the newest row. */
  onBottom?: (atBottom: boolean) => void;
}

const OVERSCAN_PX = 600;
const BOTTOM_SLACK_PX = 48;

export function VirtualList<T extends VRow>({ rows, render, label, className, onNearTop, onBottom }: Props<T>) {
  const box = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [view, setView] = useState({ top: 0, height: 800 });
  const [, setMeasured] = useState(0);
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);

  // Offsets of every row (prefix sums of measured or estimated heights).
  const offsets = new Array<number>(rows.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i]! + (heights.current.get(rows[i]!.key) ?? rows[i]!.estimate);
  const total = offsets[rows.length]!;
  const indexOfKey = (k: string) => rows.findIndex((r) => r.key === k);

  let first = 0;
  while (first < rows.length && offsets[first + 1]! < view.top - OVERSCAN_PX) first++;
  let last = first;
  while (last < rows.length && offsets[last]! < view.top + view.height + OVERSCAN_PX) last++;

  const observer = useRef<ResizeObserver | null>(null);
  useEffect(() => {
    observer.current = new ResizeObserver((entries) => {
      let changed = false;
      for (const e of entries) {
        const k = (e.target as HTMLElement).dataset.vkey;
        const h = Math.ceil((e.target as HTMLElement).offsetHeight);
        if (k && h && heights.current.get(k) !== h) {
          heights.current.set(k, h);
          changed = true;
        }
      }
      if (changed) setMeasured((n) => n + 1);
    });
    return () => observer.current?.disconnect();
  }, []);
  const measure = useCallback((el: HTMLDivElement | null) => {
    const ro = observer.current;
    if (!el || !ro) return;
    ro.observe(el);
    return () => ro.unobserve(el);
  }, []);

  // Keep the anchor (or the bottom) in place after rows or heights change.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = indexOfKey(anchor.current.key);
      if (i >= 0) {
        const want = offsets[i]! - anchor.current.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
  });

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    if (bottom !== atBottom.current) {
      atBottom.current = bottom;
      onBottom?.(bottom);
    }
    let i = 0;
    while (i < rows.length && offsets[i + 1]! <= el.scrollTop) i++;
    while (i < rows.length - 1 && rows[i]!.anchor === false) i++;
    anchor.current = rows[i] ? { key: rows[i]!.key, delta: offsets[i]! - el.scrollTop } : null;
    setView({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < OVERSCAN_PX) onNearTop?.();
  };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setView({ top: el.scrollTop, height: el.clientHeight });
    const ro = new ResizeObserver(() => setView((v) => ({ ...v, height: el.clientHeight })));
    ro.observe(el);
    onBottom?.(true);
    return () => ro.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // A short history that does not fill the view: ask for older rows.
  useEffect(() => {
    if (box.current && total < box.current.clientHeight) onNearTop?.();
  }, [total, onNearTop]);

  return (
    <div ref={box} role="log" aria-label={label} tabIndex={0} onScroll={onScroll} className={`overflow-y-auto focus:outline-none ${className ?? ""}`}>
      <div style={{ height: offsets[first] }} aria-hidden="true" />
      {rows.slice(first, last).map((r) => (
        <div key={r.key} data-vkey={r.key} ref={measure}>
          {render(r)}
        </div>
      ))}
      <div style={{ height: total - offsets[last]! }} aria-hidden="true" />
    </div>
  );
}
