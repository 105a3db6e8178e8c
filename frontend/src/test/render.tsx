import { render } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { PostViewerProvider } from '../components/PostViewer';
import { I18n, STRINGS, type Lang } from '../lib/i18n';

/** Render inside the page's providers (kept on rerender): one language's strings, the post viewer. */
export function renderPage(ui: ReactElement, { lang = 'en', names = {} }: { lang?: Lang; names?: Record<string, string> } = {}) {
  function Providers({ children }: { children: ReactNode }) {
    return (
      <I18n.Provider value={STRINGS[lang]}>
        <PostViewerProvider expertNames={names}>{children}</PostViewerProvider>
      </I18n.Provider>
    );
  }
  return render(ui, { wrapper: Providers });
}
