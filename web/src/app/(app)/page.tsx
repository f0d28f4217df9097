export default function Home() {
  return (
    <div className="flex flex-1 items-center justify-center p-6 text-slate-500">
      <p>Pick a conversation, or start one from the sidebar.</p>
    </div>
  );
}
