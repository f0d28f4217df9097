"use client";
import { useParams } from "next/navigation";
import { useEffect, useState } from "react";
import { ConversationView, type Focus } from "@/components/ConversationView";

export default function ConversationPage() {
  const { id } = useParams<{ id: string }>();
  // ?message=<id>[&thread=<root id>]: a search hit to show (read once per conversation).
  const [focus, setFocus] = useState<Focus | null>(null);
  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    const message = q.get("message");
    setFocus(message ? { message, thread: q.get("thread") } : null);
  }, [id]);
  return <ConversationView key={id} id={id} focus={focus} />;
}
