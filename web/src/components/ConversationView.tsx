"use client";
import { useConversation } from "@/hooks/useConversation";

export function ConversationView({ id }: { id: string }) {
  const c = useConversation(id);
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <header className="border-b border-slate-200 px-4 py-2">
        <h1 className="text-lg font-semibold">{c.title}</h1>
      </header>
    </div>
  );
}
